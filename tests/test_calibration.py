"""The fitting machinery, on small real slices of the corpus (the full refit is `kstance calibrate`)."""
import numpy as np
import pytest

from classifiers.corpus import LABELS, dev_examples, reference_profile, training_examples
from classifiers.encoder import lora_state, resolve_model
from classifiers.head import evaluate, fit_temperature
from classifiers.stance import softmax
from classifiers.training import TrainConfig, train


def test_corpus_is_large_balanced_and_rich_in_contrast_pairs():
    ex = training_examples()
    assert len(ex) >= 1500
    grouped = [e for e in ex if e.group and not e.group.startswith("seed-")]
    assert len(grouped) >= 500
    for actor in ("US", "CN", "JP", "KP", "RU"):
        labels = [e.stance for e in ex if e.actor == actor]
        for stance in LABELS:
            assert labels.count(stance) >= 40, (actor, stance)


def test_dev_split_never_overlaps_training_text():
    train_texts = {e.text for e in training_examples()}
    dev = dev_examples()
    assert len(dev) >= 300 and not any(e.text in train_texts for e in dev)


def test_the_top_layers_on_cached_lower_states_equal_the_whole_encoder():
    import torch

    from classifiers.encoder import encode_pairs, fresh_model, lower_states, upper_forward

    tok, enc = fresh_model(resolve_model(None))
    enc.eval()
    batch = encode_pairs(tok, ["Japan", "North Korea"], ["Seoul protested to [Japan] over the curbs.",
                                                         "정부는 [북한]의 미사일 발사를 규탄했다."], [0, 1])
    with torch.no_grad():
        whole = enc(**batch).last_hidden_state
        split = upper_forward(enc, 4, *lower_states(enc, 4, batch))
    assert torch.allclose(whole, split, atol=1e-5)


def test_temperature_recovers_a_known_overconfidence():
    rng = np.random.default_rng(0)
    true_logits = rng.normal(0, 1.5, size=(4000, 4))
    labels = np.array([rng.choice(4, p=p) for p in softmax(true_logits)])
    assert fit_temperature(true_logits * 3.0, labels) == pytest.approx(3.0, rel=0.12)


def test_metrics_on_a_known_confusion():
    gold = np.array([0, 0, 1, 2, 2, 3])
    probs = np.eye(4)[[0, 2, 1, 2, 2, 3]] * 0.9 + 0.025
    m = evaluate(probs, gold)
    assert m["confusion"][0] == [1, 0, 1, 0]
    assert m["per_class_f1"]["neutral"] == 1.0
    assert m["macro_f1_coop_vs_conf"] == pytest.approx((2 / 3 + 0.8) / 2, abs=1e-3)


def test_training_is_deterministic_and_learns(tmp_path):
    ex = [e for e in training_examples() if e.actor == "KP" and e.stance in ("cooperative", "confrontational")][:64]
    cfg = TrainConfig(epochs=2, batch_size=16, adapt_layers=2)
    model_dir = resolve_model(None)
    tok, enc1, head1 = train(ex, model_dir, cfg)
    _, enc2, head2 = train(ex, model_dir, cfg)
    s1, s2 = lora_state(enc1), lora_state(enc2)
    assert s1.keys() == s2.keys() and all(np.array_equal(s1[k].numpy(), s2[k].numpy()) for k in s1)
    assert any(float(v.abs().sum()) > 0 for k, v in s1.items() if "lora_B" in k)  # the adapter moved
    assert {k.split(".")[2] for k in s1} == {"4", "5"}  # only the top two of MiniLM's six layers are adapted


def test_reference_profile_read_from_the_seed_annotations():
    prof = reference_profile()
    assert prof["US"]["stance"] == "cooperative" and prof["US"]["n"] >= 5
    assert set(prof) == {"US", "CN", "JP", "KP", "RU"}
