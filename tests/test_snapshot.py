"""The encoder's start-up snapshot (classifiers.snapshot): made after a load through transformers, loaded with torch
alone, and giving the transformers model's outputs to the bit; a damaged one is replaced, never trusted."""
import json
import subprocess
import sys

import pytest
import torch

from classifiers import snapshot
from classifiers.articles import read_articles
from classifiers.corpus import dev_examples, seeds_dir
from classifiers.encoder import bundled_model_dir, encode_pairs
from classifiers.stance import StanceModel, query_for

ARTIFACT = seeds_dir() / "model"


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("snapshot-cache")


@pytest.fixture(scope="module")
def eager(cache):
    """The classifier through transformers; loading it makes the snapshot in `cache`."""
    assert not list(cache.iterdir())
    model = StanceModel.load(ARTIFACT, cache_dir=cache)
    assert not model.from_snapshot  # the first load goes through transformers and leaves the snapshot behind
    assert len(list(cache.glob(f"{snapshot.PREFIX}*/{snapshot.TRACE_FILE}"))) == 1
    assert not StanceModel.load(ARTIFACT, snapshot=False, cache_dir=cache).from_snapshot  # asked not to use it
    return model


def _texts():
    """Dev pairs (English) and article openings (English and Korean, many past 128 tokens: truncated)."""
    dev = dev_examples()
    arts = read_articles()
    texts = [e.text for e in dev] + [a.document[:1200] for a in arts]
    queries = [query_for(e.actor) for e in dev] + [query_for("KP")] * len(arts)
    return queries, texts


def test_the_snapshot_gives_the_transformers_models_tokens_and_outputs_to_the_bit(eager, cache):
    fast = StanceModel.load(ARTIFACT, cache_dir=cache)
    assert fast.from_snapshot
    queries, texts = _texts()
    assert any(len(eager.tokenizer(q, t, truncation="only_second", max_length=128)["input_ids"]) == 128
               for q, t in zip(queries[-20:], texts[-20:]))  # some inputs are truncated
    checked = 0
    for size in (1, 16):  # one pair (no padding) and batches padded to their longest
        for start in range(0, len(texts), 199):
            idx = list(range(start, min(start + size, len(texts))))
            a, b = encode_pairs(eager.tokenizer, queries, texts, idx), encode_pairs(fast.tokenizer, queries, texts, idx)
            assert set(a) == set(b) and all(torch.equal(a[k], b[k]) for k in a)
            with torch.inference_mode():
                assert torch.equal(eager.encoder(**a).last_hidden_state, fast.encoder(**b).last_hidden_state)
            checked += 1
    assert checked >= 6  # two batch sizes at three or more places
    korean = [a.document for a in read_articles() if a.language == "ko"][:6]
    english = [a.document for a in read_articles() if a.language == "en"][:6]
    assert eager.judge_texts(korean + english) == fast.judge_texts(korean + english)


def test_a_process_loading_the_snapshot_never_imports_transformers_modeling_code(eager, cache):
    code = ("import sys, json; from classifiers.stance import StanceModel; "
            f"m = StanceModel.load({str(ARTIFACT)!r}, cache_dir={str(cache)!r}); "
            "v = m.judge_text('The foreign ministry lodged a strong protest with Tokyo over the textbook.', 'en'); "
            "print(json.dumps([m.from_snapshot, 'transformers.modeling_utils' in sys.modules, "
            "[(j.actor, j.stance) for j in v.judgments]]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    from_snapshot, imported, judged = json.loads(out.stdout.strip().splitlines()[-1])
    assert from_snapshot and not imported
    assert judged == [["JP", "confrontational"]]


def test_a_damaged_snapshot_is_replaced_and_judgments_are_unchanged(eager, tmp_path):
    StanceModel.load(ARTIFACT, cache_dir=tmp_path)  # makes it
    (folder,) = tmp_path.glob(f"{snapshot.PREFIX}*")
    trace = folder / snapshot.TRACE_FILE
    trace.write_bytes(b"\0" * trace.stat().st_size)  # same size, garbage: only loading it can tell
    again = StanceModel.load(ARTIFACT, cache_dir=tmp_path)
    assert not again.from_snapshot  # refused, loaded through transformers, and made anew
    assert StanceModel.load(ARTIFACT, cache_dir=tmp_path).from_snapshot
    texts = ["The foreign ministry lodged a strong protest with Tokyo over the textbook.",
             "정부는 북한의 미사일 발사를 강력히 규탄한다고 밝혔다."]
    assert again.judge_texts(texts) == eager.judge_texts(texts)


def test_a_recalibrated_artifact_gets_its_own_snapshot_and_the_old_one_goes(eager, tmp_path):
    import shutil

    art = tmp_path / "model"
    shutil.copytree(ARTIFACT, art)
    cache = tmp_path / "cache"
    StanceModel.load(art, cache_dir=cache)
    (first,) = cache.glob(f"{snapshot.PREFIX}*")
    meta = json.loads((art / "model.json").read_text())
    (art / "model.json").write_text(json.dumps({**meta, "version": meta.get("version", 0) + 1}))
    assert not StanceModel.load(art, cache_dir=cache).from_snapshot  # another artifact: never the old snapshot
    (second,) = cache.glob(f"{snapshot.PREFIX}*")
    assert second != first
    assert StanceModel.load(art, cache_dir=cache).from_snapshot


def test_only_encoders_it_was_checked_on_get_a_snapshot(tmp_path):
    # the packaged MiniLM's tokenizer gives token type ids: it keeps loading through transformers
    assert not snapshot.supported(bundled_model_dir())
    assert not snapshot.supported(tmp_path)  # no folder files at all


def test_a_process_that_finds_the_snapshot_being_built_judges_without_waiting(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from filelock import FileLock; "
                               "lock = FileLock(sys.argv[1]); lock.acquire(); print('held', flush=True); "
                               "time.sleep(600)",
                               str(tmp_path / f".{snapshot.PREFIX}build.lock")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"  # another process is building it (and never finishes)
        code = ("import json; from classifiers.stance import StanceModel; "
                f"m = StanceModel.load({str(ARTIFACT)!r}, cache_dir={str(tmp_path)!r}); "
                "v = m.judge_text('The foreign ministry lodged a strong protest with Tokyo.', 'en'); "
                "print(json.dumps([m.from_snapshot, [(j.actor, j.stance) for j in v.judgments]]))")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    finally:
        holder.kill()
        holder.wait()
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [False, [["JP", "confrontational"]]]
    assert not list(tmp_path.glob(f"{snapshot.PREFIX}*/"))  # it left the building to the lock's holder
