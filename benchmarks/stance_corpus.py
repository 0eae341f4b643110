"""Stance quality on real-style coverage: ../shared/corpus/stance-articles (165 articles, English and Korean), by
cross-validation grouped by month, per language and per target.

The shipped artifact's encoder was adapted on the written calibration pairs only (stage one), so it has never
seen an article of the corpus; stage two (the head) is refitted here for each fold on the written pairs plus the
corpus sentences of the other months, and judges the held-out months' articles through the whole article path.
`--as-shipped` scores the artifact as it is instead (honest only for an artifact whose head saw no corpus
article, e.g. one calibrated before the corpus existed).

    python -m benchmarks.stance_corpus [--folds 5] [--as-shipped] [--out predictions.json] [--oracle-selection]
        [--save-judgments oof.jsonl]   (then: python -m benchmarks.shift_replay --judgments oof.jsonl)
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks.common import SHARED, peak_rss_mb, report
from classifiers.articles import read_articles, score, score_per_target
from classifiers.corpus import seeds_dir, training_examples
from classifiers.corpus_cv import article_cross_validation
from classifiers.stance import StanceModel
from classifiers.training import TrainConfig


def corpus_path() -> Path:
    shared = SHARED / "corpus" / "stance-articles" / "articles.jsonl"
    return shared if shared.exists() else seeds_dir() / "calibration" / "articles.jsonl"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", type=int, default=TrainConfig.folds)
    ap.add_argument("--as-shipped", action="store_true")
    ap.add_argument("--artifact", type=Path, default=seeds_dir() / "model")
    ap.add_argument("--out", type=Path, help="write the out-of-fold verdicts here (JSON)")
    ap.add_argument("--write-confusion", action="store_true",
                    help="write the out-of-fold verdicts' error profile into the artifact's confusion.json")
    ap.add_argument("--save-judgments", type=Path,
                    help="write the out-of-fold judgments as JSONL for `benchmarks.shift_replay --judgments`")
    ap.add_argument("--oracle-selection", action="store_true",
                    help="also score the verdicts when only the readers' evidence sentences vote (a diagnostic)")
    args = ap.parse_args()
    articles = read_articles(corpus_path())
    model = StanceModel.load(args.artifact)
    if model.meta.get("train", {}).get("articles") and args.as_shipped:
        print("warning: this artifact's head was fitted on the corpus: --as-shipped figures are in-sample")
    fit = None
    if args.as_shipped:
        predicted, metrics, mode = judged_as_shipped(model, articles)
    else:
        fit, examples, mode = cross_validated(model, articles, args.folds)
        predicted, metrics = fit.predicted, fit.metrics
    flat = {k: {t: j["stance"] for t, j in d.items()} for k, d in predicted.items()}
    rows, figures = metric_rows(metrics, articles, flat)
    if fit is not None and args.oracle_selection:
        rows += oracle_rows(articles, examples, fit)
    if fit is not None and args.save_judgments:
        rows.append(("judgments written", str(save_judgments(args.save_judgments, articles, fit.verdicts))))
    rows.insert(0, ("mode", mode))
    rows.insert(1, ("corpus", str(corpus_path())))
    rows.append(("peak RSS MB", f"{peak_rss_mb():.0f}"))
    if args.write_confusion and not args.as_shipped:
        from classifiers.calibration import write_error_profile

        rows.append(("error profile written", str(write_error_profile(args.artifact, articles, predicted))))
    if args.out:
        args.out.write_text(json.dumps(predicted, ensure_ascii=False, indent=1))
    report("stance_corpus", rows, figures)


def judged_as_shipped(model, articles):
    """The shipped head's verdicts on every article: (predicted, metrics, mode)."""
    verdicts = model.judge_texts([a.document for a in articles], [a.language for a in articles])
    predicted = {
        a.id: {
            j.actor: {"stance": j.stance, "score": round(j.score, 4), "confidence": round(j.confidence, 4)}
            for j in v.judgments
        }
        for a, v in zip(articles, verdicts)
    }
    flat = {k: {t: j["stance"] for t, j in d.items()} for k, d in predicted.items()}
    metrics = {name: score(sub, flat) for name, sub in (
        ("all", articles), ("en", [a for a in articles if a.language == "en"]),
        ("ko", [a for a in articles if a.language == "ko"]))}
    return predicted, metrics, "as shipped"


def cross_validated(model, articles, folds: int):
    """Out-of-fold verdicts, the head refitted without each month group: (predicted, metrics, mode)."""
    written = training_examples()
    feats = model.embed([e.actor for e in written], [e.text for e in written])
    fit, examples, _ = article_cross_validation(model, written, feats, articles, folds=folds,
                                                seed=TrainConfig.seed, l2=TrainConfig.l2)
    return fit, examples, f"{folds}-fold CV grouped by month, temperature {fit.temperature:.3f}"


def oracle_rows(articles, examples, fit) -> list:
    """Accuracy and F1 when only the readers' evidence sentences vote: what a perfect selection would give."""
    from classifiers.corpus_cv import article_metrics, evidence_only_verdicts

    metrics = article_metrics(articles, evidence_only_verdicts(articles, examples, fit.sentence_probs))
    return [(f"{name}: evidence sentences only: acc3 / F1 coop-conf",
             f"{metrics[name]['accuracy_3']:.3f} / {metrics[name]['macro_f1_coop_vs_conf']:.3f}")
            for name in ("en", "ko", "all") if metrics.get(name)]


def save_judgments(path: Path, articles, verdicts) -> Path:
    """One JSON line per (article, target) judged out of fold, in the shape `shift_replay --judgments` reads."""
    raw = {}
    for line in corpus_path().read_text(encoding="utf-8").splitlines():
        if line.strip():
            rec = json.loads(line)
            raw[rec["id"]] = rec
    with open(path, "w", encoding="utf-8") as fh:
        for a, v in zip(articles, verdicts):
            r = raw[a.id]
            for j in v.judgments:
                fh.write(json.dumps({"url": r["source_url"], "published": r["date"], "actor": j.actor,
                                     "stance": j.stance, "score": round(j.score, 4),
                                     "confidence": round(j.confidence, 4), "title": r["title"],
                                     "source": r["outlet"], "evidence": list(j.evidence[:1])},
                                    ensure_ascii=False) + "\n")
    return path


def metric_rows(metrics: dict, articles, flat: dict) -> tuple[list, dict]:
    """The report's rows per language and per target, and the figures line."""
    rows: list = []
    figures: dict = {}
    for name in ("en", "ko", "all"):
        m = metrics.get(name)
        if not m:
            continue
        rows.append((f"{name}: articles / stance labels / none labels",
                     f"{m['articles']} / {m['stance_labels']} / {m['none_labels']}"))
        for key in ("macro_f1_coop_vs_conf", "accuracy_3", "none_unjudged", "stance_unjudged", "polarity_flips"):
            value = m[key]
            rows.append(
                (f"{name}: {key}", "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value))
            )
            figures[f"{name}_{key}"] = value if value is not None else "-"
    for t, m in score_per_target(articles, flat).items():
        rows.append((f"target {t}: n / acc3 / F1 coop-conf / none unjudged",
                     f"{m['stance_labels']} / {m['accuracy_3'] or 0:.3f} / {m['macro_f1_coop_vs_conf'] or 0:.3f} / "
                     f"{(m['none_unjudged'] if m['none_unjudged'] is not None else float('nan')):.3f}"))
    return rows, figures


if __name__ == "__main__":
    main()
