"""Sentences per second through the whole stance classifier (splitting, attribution, tokenising, encoder, head,
aggregation), PyTorch and ONNX int8, against the bare encoder's forward pass on the same pairs, in one run."""
from __future__ import annotations

import argparse
import random
import tempfile
from pathlib import Path

import torch

from benchmarks.common import peak_rss_mb, report, timed
from classifiers.corpus import dev_examples, seeds_dir, training_examples
from classifiers.encoder import encode_pairs, length_sorted_batches
from classifiers.stance import StanceModel, candidate_sentences, pair_inputs


def articles(n_sentences: int, seed: int = 1, words: tuple[int, int] | None = None) -> list[str]:
    """Article-like texts of 12 sentences each, from the corpus (dev and training sentences); `words` keeps
    only sentences of that many words (the GUIDE's reference figures were taken on 12 to 25-word sentences)."""
    pool = [e.text for e in dev_examples()] + [e.text for e in training_examples()]
    if words:
        pool = [t for t in pool if words[0] <= len(t.split()) <= words[1]]
    rng = random.Random(seed)
    rng.shuffle(pool)
    pool = (pool * (n_sentences // len(pool) + 1))[:n_sentences]
    return [" ".join(pool[i:i + 12]) for i in range(0, len(pool), 12)]


def bare_forward(model, pairs):
    """The reference: only the encoder's forward pass over the same (actor, sentence) pairs, in the model's own
    length-sorted batches, tokenised beforehand; ONNX Runtime runs them on the model's thread pool, as it does
    inside the classifier."""
    queries, texts = pair_inputs([a for a, _ in pairs], [s for _, s in pairs], model.input_format)
    batches = [encode_pairs(model.tokenizer, queries, texts, idx)
               for idx in length_sorted_batches([len(t) for t in texts], model.batch_size)]
    if hasattr(model, "session"):
        feeds = [{k: enc[k].numpy() for k in model.input_names} for enc in batches]

        def run():
            list(model.executor().map(lambda f: model.session.run(None, f), feeds))
    else:
        def run():
            with torch.inference_mode():
                for enc in batches:
                    model.encoder(**enc)
    return run


def measure(label: str, model, texts: list[str], repeats: int, rows: list, figures: dict) -> None:
    pairs = [(a, s) for t in texts for s, a in candidate_sentences(t)]
    n = len(pairs)
    queries, pair_texts = pair_inputs([a for a, _ in pairs], [s for _, s in pairs], model.input_format)
    tokens = sum(len(model.tokenizer(q, t, truncation="only_second", max_length=128)["input_ids"])
                 for q, t in zip(queries, pair_texts)) / n
    t_bare, _ = timed(bare_forward(model, pairs), repeats)
    t_whole, _ = timed(lambda: model.judge_texts(texts), repeats)
    rows += [
        (f"{label}: pairs (mean tokens)", f"{n} ({tokens:.0f})"),
        (f"{label}: bare encoder sentences/s", f"{n / t_bare:.0f}"),
        (f"{label}: whole classifier sentences/s", f"{n / t_whole:.0f}"),
        (f"{label}: ratio whole/bare", f"{t_bare / t_whole:.2f}"),
    ]
    key = label.replace(" ", "_").replace(",", "")
    figures.update({f"{key}_bare": round(n / t_bare, 1), f"{key}_whole": round(n / t_whole, 1),
                    f"{key}_ratio": round(t_bare / t_whole, 3)})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sentences", type=int, default=1200)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(2)
    from classifiers.articles import read_articles

    # the real-style article corpus, English and Korean, as the classifier meets it (title + text)
    news = [a.document for a in read_articles()]
    short = articles(args.sentences, words=(12, 25))  # written sentences of the length the GUIDE's figures used
    rows: list = [("articles: corpus / short set", f"{len(news)} / {len(short)}")]
    figures: dict = {}
    torch_model = StanceModel.load(seeds_dir() / "model")
    measure("torch news", torch_model, news, args.repeats, rows, figures)
    measure("torch short", torch_model, short, args.repeats, rows, figures)
    rows.append(("peak RSS MB, PyTorch only", f"{peak_rss_mb():.0f}"))
    figures["torch_peak_rss_mb"] = round(peak_rss_mb())
    try:
        from classifiers.onnx_backend import load_onnx_model

        with tempfile.TemporaryDirectory() as cache:
            onnx_model = load_onnx_model(seeds_dir() / "model", None, Path(cache))
            measure("onnx news", onnx_model, news, args.repeats, rows, figures)
            measure("onnx short", onnx_model, short, args.repeats, rows, figures)
            pairs = [(a, s) for t in news for s, a in candidate_sentences(t)][:400]
            a = torch_model.probabilities([p[0] for p in pairs], [p[1] for p in pairs])
            b = onnx_model.probabilities([p[0] for p in pairs], [p[1] for p in pairs])
            agree = float((a.argmax(1) == b.argmax(1)).mean())
        rows.append(("onnx vs torch label agreement (400 pairs)", f"{agree:.3f}"))
        figures["agreement"] = round(agree, 3)
    except ImportError as exc:
        rows.append(("onnx", f"not installed ({exc})"))
    rows.append(("peak RSS MB, both backends loaded", f"{peak_rss_mb():.0f}"))
    figures["peak_rss_mb"] = round(peak_rss_mb())
    report("classifier", rows, figures)


if __name__ == "__main__":
    main()
