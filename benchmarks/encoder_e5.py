"""multilingual-e5-small on this machine: folder build time, encoder sentences/s (PyTorch fp32 and ONNX int8, batch 32,
12-25-word English and Korean sentences of the stance corpus, as (actor, sentence) pairs), peak memory.

    python -m benchmarks.encoder_e5 build|torch|onnx     (one process per mode, so each peak RSS is its own)
"""
from __future__ import annotations

import json
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import SHARED, machine, peak_rss_mb

CORPUS = SHARED / "corpus" / "stance-articles" / "articles.jsonl"
N = 256


def sentences(lang: str) -> list[str]:
    out = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        a = json.loads(line)
        korean = bool(re.search(r"[\uac00-\ud7a3]", a.get("text", "")))
        if korean != (lang == "ko"):
            continue
        for s in re.split(r"(?<=[.!?다])\s+", a.get("text", "")):
            if 12 <= len(s.split()) <= 25 or (lang == "ko" and 8 <= len(s.split()) <= 18 and len(s) >= 40):
                out.append(s.strip())
    return (out * (N // max(1, len(out)) + 1))[:N]


def main(mode: str) -> None:
    from classifiers import multilingual as ml

    cache = Path(tempfile.mkdtemp(prefix="kstance-bench-e5-")) if mode == "build" else None
    t = time.perf_counter()
    folder = ml.e5_small_dir(cache)
    if mode == "build":
        print(f"build: {time.perf_counter() - t:.1f} s, peak RSS {peak_rss_mb():.0f} MB ({machine()})")
        return
    import torch

    from classifiers.encoder import encode_pairs, fresh_model, length_sorted_batches, mean_pool
    from classifiers.stance import StanceHead, StanceModel

    torch.set_num_threads(2)
    tok, enc = fresh_model(str(folder))
    base = StanceModel(tok, enc, StanceHead(384), 1.0, {"input_format": "named"})
    if mode == "onnx":
        from classifiers.onnx_backend import OnnxStanceModel, export_quantized

        t = time.perf_counter()
        path = export_quantized(base, Path(tempfile.mkdtemp(prefix="kstance-bench-onnx-")))
        print(f"onnx export+quantise: {time.perf_counter() - t:.1f} s, {path.stat().st_size / 2**20:.0f} MB")
        onnx_model = OnnxStanceModel(base, path)
    for lang in ("en", "ko"):
        texts = sentences(lang)
        queries = ["North Korea"] * len(texts)
        batches = length_sorted_batches([len(s) for s in texts], 32)
        t = time.perf_counter()
        if mode == "torch":
            with torch.inference_mode():
                for idx in batches:
                    e = encode_pairs(tok, queries, texts, idx)
                    mean_pool(enc(**e).last_hidden_state, e["attention_mask"])
        else:
            for idx in batches:
                onnx_model._pooled(queries, texts, idx)
        dt = time.perf_counter() - t
        ntok = np.mean([len(tok(s)["input_ids"]) for s in texts])
        print(f"{mode} {lang}: {len(texts) / dt:.0f} sentences/s at batch 32 ({len(texts)} sentences, "
              f"{ntok:.0f} tokens each on average)")
        if mode == "onnx":
            t = time.perf_counter()
            onnx_model.logits(["KP"] * len(texts), texts)
            print(f"onnx {lang} (the backend as shipped: batch 8, one batch per thread): "
                  f"{len(texts) / (time.perf_counter() - t):.0f} sentences/s")
    print(f"{mode}: peak RSS {peak_rss_mb():.0f} MB ({machine()})")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "torch")
