"""Sentences per second through the whole stance classifier (splitting, attribution, tokenising, encoder, head,
aggregation), PyTorch and ONNX int8, against the bare encoder's forward pass on the same pairs, in one run."""
from __future__ import annotations

import argparse
import random
import tempfile
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import peak_rss_mb, report, timed
from classifiers.corpus import dev_examples, seeds_dir, training_examples
from classifiers.encoder import encode_pairs, length_sorted_batches
from classifiers.stance import StanceModel, candidate_sentences, query_for


def articles(n_sentences: int, seed: int = 1) -> list[str]:
    """Article-like texts of 12 sentences each, from the corpus (dev first, then training sentences)."""
    pool = [e.text for e in dev_examples()] + [e.text for e in training_examples()]
    rng = random.Random(seed)
    rng.shuffle(pool)
    pool = (pool * (n_sentences // len(pool) + 1))[:n_sentences]
    return [" ".join(pool[i:i + 12]) for i in range(0, len(pool), 12)]


def bare_forward(model, pairs, batch_size=32) -> None:
    """The reference: only the encoder's forward pass over the same (actor, sentence) pairs, sorted batches."""
    queries = [query_for(a) for a, _ in pairs]
    texts = [s for _, s in pairs]
    for idx in length_sorted_batches([len(t) for t in texts], batch_size):
        enc = encode_pairs(model.tokenizer, queries, texts, idx)
        if hasattr(model, "session"):
            model.session.run(None, {k: enc[k].numpy() for k in ("input_ids", "attention_mask", "token_type_ids")})
        else:
            with torch.inference_mode():
                model.encoder(**enc)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sentences", type=int, default=1200)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(2)
    texts = articles(args.sentences)
    torch_model = StanceModel.load(seeds_dir() / "model")
    pairs = [(a, s) for t in texts for s, a in candidate_sentences(t)]
    n = len(pairs)
    rows, figures = [("articles", str(len(texts))), ("candidate pairs", str(n))], {"pairs": n}
    t_bare, _ = timed(lambda: bare_forward(torch_model, pairs), args.repeats)
    t_whole, verdicts = timed(lambda: torch_model.judge_texts(texts), args.repeats)
    rows += [("torch bare encoder sentences/s", f"{n / t_bare:.0f}"), ("torch whole classifier sentences/s", f"{n / t_whole:.0f}"),
             ("torch ratio whole/bare", f"{t_bare / t_whole:.2f}")]
    figures.update(torch_bare=n / t_bare, torch_whole=n / t_whole, torch_ratio=t_bare / t_whole)
    try:
        from classifiers.onnx_backend import load_onnx_model

        with tempfile.TemporaryDirectory() as cache:
            onnx_model = load_onnx_model(seeds_dir() / "model", None, Path(cache))
            onnx_model.session.get_providers()
            t_obare, _ = timed(lambda: bare_forward(onnx_model, pairs), args.repeats)
            t_owhole, overdicts = timed(lambda: onnx_model.judge_texts(texts), args.repeats)
            a = torch_model.probabilities([p[0] for p in pairs[:400]], [p[1] for p in pairs[:400]])
            b = onnx_model.probabilities([p[0] for p in pairs[:400]], [p[1] for p in pairs[:400]])
            agree = float((a.argmax(1) == b.argmax(1)).mean())
        rows += [("onnx int8 bare encoder sentences/s", f"{n / t_obare:.0f}"),
                 ("onnx int8 whole classifier sentences/s", f"{n / t_owhole:.0f}"),
                 ("onnx ratio whole/bare", f"{t_obare / t_owhole:.2f}"),
                 ("onnx vs torch label agreement (400 pairs)", f"{agree:.3f}")]
        figures.update(onnx_bare=n / t_obare, onnx_whole=n / t_owhole, onnx_ratio=t_obare / t_owhole, agreement=agree)
    except ImportError as exc:
        rows.append(("onnx", f"not installed ({exc})"))
    rows.append(("peak RSS MB", f"{peak_rss_mb():.0f}"))
    figures["peak_rss_mb"] = peak_rss_mb()
    report("classifier", rows, figures)


if __name__ == "__main__":
    main()
