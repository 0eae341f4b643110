"""The ONNX Runtime int8 backend agrees with PyTorch: embeddings at cosine >= 0.98, dev macro-F1 within 0.01."""
import json

import numpy as np
import pytest

from classifiers.corpus import dev_examples, seeds_dir
from classifiers.encoder import encode_pairs
from classifiers.head import evaluate
from classifiers.stance import query_for

pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def onnx_cache(tmp_path_factory, model):
    """An export cache as a killed export leaves it: the artifact's folder holding a truncated int8 file and no
    source.json, and a half-written temporary folder beside it."""
    from classifiers.onnx_backend import export_key, quant_plan

    cache = tmp_path_factory.mktemp("onnx")
    target = cache / export_key(seeds_dir() / "model", quant_plan(model.encoder.config), model.encoder_fingerprint)
    target.mkdir()
    (target / "encoder.int8.onnx").write_bytes(b"\x08\x07half an export")
    (cache / ".export-killed.tmp").mkdir()
    (cache / ".export-killed.tmp" / "encoder.fp32.onnx").write_bytes(b"\x08\x07")
    # an export of this artifact's earlier calibration, and one of another artifact
    for name, artifact in (("0older-export", seeds_dir() / "model"), ("other-artifact", cache / "elsewhere")):
        (cache / name).mkdir()
        (cache / name / "source.json").write_text(json.dumps({"artifact": str(artifact.resolve())}))
    return cache


@pytest.fixture(scope="module")
def onnx_model(onnx_cache):
    from classifiers.onnx_backend import load_onnx_model

    return load_onnx_model(seeds_dir() / "model", None, onnx_cache)


def test_a_killed_export_is_redone_not_loaded(onnx_cache, onnx_model):
    """The damaged cache above loads a fresh, complete export (the agreement tests below read it); the killed
    export's temporary folder and the earlier export of the same artifact are gone, another artifact's stays."""
    assert onnx_model.session is not None
    folder = onnx_model.onnx_path.parent
    assert (folder / "source.json").exists() and folder.parent == onnx_cache
    assert onnx_model.onnx_path.stat().st_size > 10_000_000
    assert not list(onnx_cache.glob(".export-*.tmp"))
    assert not (onnx_cache / "0older-export").exists() and (onnx_cache / "other-artifact").exists()


def test_embeddings_agree_with_pytorch(model, onnx_model):
    import torch

    dev = dev_examples()[:64]
    enc = encode_pairs(model.tokenizer, [query_for(e.actor) for e in dev], [e.text for e in dev], list(range(len(dev))))
    from classifiers.encoder import mean_pool

    with torch.inference_mode():
        a = mean_pool(model.encoder(**enc).last_hidden_state, enc["attention_mask"]).numpy()
    h = onnx_model.session.run(None, {k: enc[k].numpy() for k in onnx_model.input_names})[0]
    mask = enc["attention_mask"].numpy()[..., None]
    b = (h * mask).sum(1) / mask.sum(1)  # the mean-pooled embedding the head reads
    cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    assert cos.min() >= 0.98


def test_dev_macro_f1_within_a_hundredth(model, onnx_model):
    dev = dev_examples()
    gold = np.array([e.label for e in dev])
    actors, texts = [e.actor for e in dev], [e.text for e in dev]
    p_torch, p_onnx = model.probabilities(actors, texts), onnx_model.probabilities(actors, texts)
    torch_m, onnx_m = evaluate(p_torch, gold), evaluate(p_onnx, gold)
    # the headline dev macro-F1 (three stances); the coop-vs-conf figure is over about 250 items, where one
    # flipped item moves it by 0.004: its difference is reported in BENCHMARKS.md rather than held to 0.01
    assert abs(torch_m["macro_f1_3"] - onnx_m["macro_f1_3"]) <= 0.01
    assert (p_torch.argmax(1) == p_onnx.argmax(1)).mean() >= 0.97


def test_quantisation_plan_follows_the_encoder_and_keys_the_cache(tmp_path):
    from types import SimpleNamespace

    from classifiers.onnx_backend import E5_PLAN, MINILM_PLAN, QuantPlan, export_key, quant_plan

    assert quant_plan(SimpleNamespace(num_hidden_layers=6, vocab_size=30522)) is MINILM_PLAN
    assert quant_plan(SimpleNamespace(num_hidden_layers=12, vocab_size=250037)) is E5_PLAN
    assert len(E5_PLAN.fp32_nodes) == 20 and E5_PLAN.reduce_range
    assert len(quant_plan(SimpleNamespace(num_hidden_layers=4, vocab_size=30522)).fp32_nodes) == 4
    (tmp_path / "model.json").write_text("{}")
    (tmp_path / "adapter.safetensors").write_bytes(b"weights")
    keys = {export_key(tmp_path, plan) for plan in (
        MINILM_PLAN, E5_PLAN, QuantPlan("e5-small", E5_PLAN.fp32_nodes[:-1], True),
        QuantPlan("e5-small", E5_PLAN.fp32_nodes, False))}
    assert len(keys) == 4  # another plan (nodes kept in fp32, weight range) is another cache folder
    assert export_key(tmp_path, QuantPlan("renamed", E5_PLAN.fp32_nodes, True)) == export_key(tmp_path, E5_PLAN)
    # the same artifact loaded on another encoder (KSTANCE_MODEL) is another cache folder
    assert export_key(tmp_path, E5_PLAN, "cd1caf1812415a43") != export_key(tmp_path, E5_PLAN, "0123456789abcdef")


def test_backend_is_selectable_by_setting(kstance_env, monkeypatch):
    from flows.settings import load_settings
    from pipeline.model import get_model

    monkeypatch.setenv("KSTANCE_BACKEND", "onnx")
    m = get_model(load_settings().classifier_spec())
    assert m.meta["backend"] == "onnx-int8"
    verdict = m.judge_text("The foreign ministry summoned the Japanese ambassador to protest Tokyo's claim to Dokdo.")
    assert [(j.actor, j.stance) for j in verdict.judgments] == [("JP", "confrontational")]
