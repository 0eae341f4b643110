"""`python -m benchmarks.shift_replay`: the stance-articles corpus replayed as a decade's timeline.

The 165 dated articles (2016-2026) of ../shared/corpus/stance-articles go through the real pipeline's steps in
publication order (the pipeline package: screen, judge, store, then detect_shifts on the stored series, as the backfill
flow does without Prefect), and each target's alerts are scored against the regimes its labels show.

**True regimes** (per target, from the corpus labels; all languages; `none` labels ignored): walk the target's
stance labels in date order (then article id). A regime of stance S starts at the first article of a run of at
least 2 consecutive labels S that differs from the current regime. The first regime is the start of the timeline:
if it differs from the seed reference profile, the change from the seed stance is listed as `initial` (an
alert toward it is neither required nor false). Changes between cooperative and confrontational are `flips`.

**Scoring**: an alert toward S matches the regime change to S when it is confirmed on or after the regime's start
and before the next change; the first such alert counts. Delay: days from the regime's first article to the
confirming article, and articles (the target's labelled articles from the regime's first to the confirming one,
both included). `found` within 3 articles or 30 days, `late` after, `missed` without a match. Every other alert
is `false`, except an initial one. Bar: every change found, at most 1 false alarm per target per decade.

Options: `--judgments FILE` re-scores a JSONL of per-article judgments (as `--save-judgments` writes) without the
model; `--write-confusion` measures the classifier's per-article confusion on title + text and the regimes' label mix,
and writes seeds/model/confusion.json (`--write-regimes`: the label mix alone, no model); `--method`,
`--false-alarms-per-year`, `--purity` try detector settings;
`--oracle` replays the labels themselves as judgments (confidence 0.9, with an error profile that says so), to
see the detector apart from the classifier.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from dataclasses import replace
from datetime import date
from pathlib import Path

from benchmarks.common import SHARED, machine
from benchmarks.shift_truth import (
    regime_label_counts,
    regime_purity,
    score,
    years_covered,
)
from classifiers.actors import ACTORS
from classifiers.confusion import STANCES, confusion_from_corpus, load_profile, write_profile
from classifiers.shifts import DetectorConfig, Observation, Shift, detect

CORPUS = SHARED / "corpus" / "stance-articles" / "articles.jsonl"


def load_corpus(path: Path = CORPUS) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return sorted(rows, key=lambda r: (r["date"], r["id"]))


# -- judging --------------------------------------------------------------------------------------------------

def judge_through_pipeline(corpus: list[dict]) -> list[dict]:
    """The corpus as a backfill reads it (url, title, published, text, source), through the pipeline's screening,
    judging and store; returns the stored judgments, one line per (article, actor), as detect_shifts sees them."""
    from extractors.archives import read_archive
    from flows.settings import load_settings
    from pipeline.batch import load_deduplicator, process_articles
    from pipeline.model import get_model
    from store import repository as repo

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "corpus.jsonl"
        with open(src, "w", encoding="utf-8") as fh:
            for a in corpus:
                fh.write(json.dumps({"url": a["source_url"], "title": a["title"], "published": a["date"],
                                     "text": a["text"], "source": a["outlet"]}, ensure_ascii=False) + "\n")
        settings = load_settings(home=Path(tmp) / "home")
        store = settings.open_store()
        model = get_model(settings.classifier_spec())
        dedup = load_deduplicator(store)
        articles = [x for x in read_archive(src) if hasattr(x, "url")]
        for i in range(0, len(articles), 64):  # the backfill's batch size, in archive order
            process_articles(store, model, articles[i:i + 64], origin=str(src), dedup=dedup)
        rows = []
        for actor in ACTORS:
            for o in repo.series(store, actor):
                rows.append({"url": o.url, "published": o.published.isoformat(), "actor": actor, "stance": o.stance,
                             "score": round(o.score, 4), "confidence": round(o.confidence, 4), "title": o.title,
                             "source": o.source, "evidence": list(o.evidence[:1])})
        store.close()
    return rows


def measure_confusion(corpus: list[dict], seed: dict[str, str]):
    """The shipped classifier's per-article confusion on title + "\\n\\n" + text, every labelled target."""
    from flows.settings import load_settings
    from pipeline.model import get_model, model_version

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(home=Path(tmp))
        model = get_model(settings.classifier_spec())
        verdicts = model.judge_texts([a["title"] + "\n\n" + a["text"] for a in corpus], [a["language"] for a in corpus])
    triples, by_lang = [], defaultdict(int)
    for a, v in zip(corpus, verdicts):
        got = {j.actor: j for j in v.judgments}
        for actor, label in a["labels"].items():
            j = got.get(actor)
            triples.append((label, j.stance if j else None, j.confidence if j else None))
            by_lang[a["language"]] += 1
    profile = confusion_from_corpus(
        triples, source="../shared/corpus/stance-articles (title + text, every labelled target)",
        meta={"model": model_version(model), "labels": len(triples), "by_language": dict(by_lang),
              "note": "Korean articles are refused by the English-only model: they count as no judgment"},
        regime_labels=regime_label_counts(corpus, seed))
    return profile


def observations(rows: list[dict]) -> dict[str, list[Observation]]:
    out: dict[str, list[Observation]] = defaultdict(list)
    for r in rows:
        out[r["actor"]].append(Observation(r["url"], date.fromisoformat(r["published"]), float(r["score"]),
                                           float(r["confidence"]), r["stance"], r.get("title", ""),
                                           r.get("source", ""), tuple(r.get("evidence", ()))))
    return out


def oracle_rows(corpus: list[dict]) -> list[dict]:
    """The labels as if a perfect classifier had judged them (confidence 0.9)."""
    rows = []
    for a in corpus:
        for actor, label in a["labels"].items():
            if label in STANCES:
                score = 0.9 if label == "cooperative" else -0.9 if label == "confrontational" else 0.0
                rows.append({"url": a["source_url"], "published": a["date"], "actor": actor, "stance": label,
                             "score": score, "confidence": 0.9, "title": a["title"], "source": a["outlet"],
                             "evidence": [(a.get("evidence", {}).get(actor) or [""])[0]]})
    return rows


def run_detector(rows: list[dict], reference: dict, cfg: DetectorConfig, profile) -> dict[str, list[Shift]]:
    obs = observations(rows)
    return {a: detect(a, obs.get(a, []), reference.get(a, {}).get("score", 0.0), cfg, profile) for a in ACTORS}


def print_table(corpus, outcomes, false, shifts, title: str) -> dict:
    print(f"## {title}")
    print("| target | change | start | verdict | alert | delay days | delay articles |")
    print("|---|---|---|---|---|---|---|")
    for o in outcomes:
        c = o.change
        kind = " (flip)" if c.flip else ""
        alert = f"{o.alert.detected_at} {o.alert.from_stance[:4]}->{o.alert.to_stance[:4]}" if o.alert else "-"
        print(
            f"| {c.actor} | {c.from_stance} -> {c.to_stance}{kind} | {c.start} | {o.verdict} | {alert} | "
            f"{'-' if o.delay_days is None else o.delay_days} | "
            f"{'-' if o.delay_articles is None else o.delay_articles} |"
        )
    for s in false:
        print(f"| {s.actor} | (none) | - | false | {s.detected_at} {s.from_stance[:4]}->{s.to_stance[:4]} | - | - |")
    required = [o for o in outcomes if o.verdict != "initial"]
    found = sum(o.verdict == "found" for o in required)
    late = sum(o.verdict == "late" for o in required)
    flips = [o for o in required if o.change.flip]
    years = years_covered(corpus)
    per_target_decade = len(false) / len(ACTORS) / years * 10
    print()
    print(f"changes {len(required)}: found {found}, late {late}, missed {len(required) - found - late}; "
          f"flips {len(flips)}: found {sum(o.verdict == 'found' for o in flips)}, late "
          f"{sum(o.verdict == 'late' for o in flips)}; false alarms {len(false)} "
          f"({per_target_decade:.2f} per target per decade over {years:.1f} years); "
          f"alerts {sum(len(v) for v in shifts.values())}")
    print()
    return {"changes": len(required), "found": found, "late": late, "missed": len(required) - found - late,
            "flips": len(flips), "flips_found": sum(o.verdict == "found" for o in flips),
            "flips_found_or_late": sum(o.verdict in ("found", "late") for o in flips),
            "false": len(false), "false_per_target_decade": round(per_target_decade, 2)}


def arguments(argv: list[str] | None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--judgments", type=Path, help="a JSONL of per-article judgments to re-score (no model)")
    ap.add_argument("--save-judgments", type=Path, help="write the pipeline's judgments here")
    ap.add_argument(
        "--write-confusion", action="store_true", help="measure the confusion and write seeds/model/confusion.json"
    )
    ap.add_argument("--write-regimes", action="store_true",
                    help="re-measure only the regimes' label mix in seeds/model/confusion.json (no model)")
    ap.add_argument("--oracle", action="store_true", help="replay the labels themselves as judgments")
    ap.add_argument("--method", default=None)
    ap.add_argument("--false-alarms-per-year", type=float, default=None)
    ap.add_argument("--purity", type=float, default=None)
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    return ap.parse_args(argv)


def write_measurements(args, corpus: list[dict], seed: dict[str, str], artifact: Path) -> None:
    """--write-confusion and --write-regimes: the measured error profile and regimes' label mix into the model."""
    if args.write_confusion:
        profile = measure_confusion(corpus, seed)
        path = write_profile(profile, artifact)
        print(f"wrote {path}: {profile.meta.get('labels')} labels")
        for t, row in profile.counts().items():
            print(f"  true {t:<16}" + "  ".join(f"{j[:5]} {n:3d}" for j, n in row.items()))
    if args.write_regimes:
        kept = load_profile(artifact)
        path = write_profile(replace(kept, regime_labels=regime_label_counts(corpus, seed)), artifact)
        print(f"wrote the regimes' label mix into {path}: {regime_label_counts(corpus, seed)}")


def replayed_rows(args, corpus: list[dict], profile):
    """(rows, what they are, the error profile to detect with): the oracle's, a saved file's or the pipeline's."""
    if args.oracle:
        rows, what = oracle_rows(corpus), "the labels as judgments (oracle)"
        # the detector told the truth about its input: a classifier that is always right, silent on `none`
        profile = confusion_from_corpus(
            [(label, label if label in STANCES else None, 0.9) for a in corpus for label in a["labels"].values()],
            source="oracle: the corpus labels, as if judged without error", regime_labels=profile.regime_labels)
    elif args.judgments:
        rows = [json.loads(line) for line in args.judgments.read_text(encoding="utf-8").splitlines() if line.strip()]
        what = f"judgments from {args.judgments}"
    else:
        rows, what = judge_through_pipeline(corpus), "the pipeline's judgments (shipped classifier)"
    return rows, what, profile


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    from flows.settings import load_settings

    corpus = load_corpus(args.corpus)
    settings = load_settings()
    meta = json.loads((settings.model_artifact / "model.json").read_text(encoding="utf-8"))
    reference = meta.get("reference_profile", {})
    seed = {a: r.get("stance", "neutral") for a, r in reference.items()}
    write_measurements(args, corpus, seed, settings.model_artifact)
    cfg = settings.detector_config()
    overrides = {k: v for k, v in (("method", args.method), ("false_alarms_per_year", args.false_alarms_per_year),
                                   ("regime_purity", args.purity)) if v is not None}
    cfg = replace(cfg, **overrides)
    rows, what, profile = replayed_rows(args, corpus, load_profile(settings.model_artifact))
    if args.save_judgments:
        args.save_judgments.write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
        )
    shifts = run_detector(rows, reference, cfg, profile)
    outcomes, false = score(corpus, shifts, seed)
    print(f"# shift_replay ({machine()})")
    print(f"corpus {len(corpus)} articles; {len(rows)} judgments replayed ({what}); method {cfg.method}, "
          f"false_alarms_per_year {cfg.false_alarms_per_year}, regime mix "
          f"{'measured' if profile.regime_labels else 'purity %s' % cfg.regime_purity}; error profile: "
          f"{profile.source}; corpus regime purity {regime_purity(corpus, seed):.2f}")
    figures = print_table(corpus, outcomes, false, shifts, what)
    print("shift_replay: " + " ".join(f"{k}={v}" for k, v in figures.items()))
    return 0

if __name__ == "__main__":
    sys.exit(main())
