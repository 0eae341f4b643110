"""Candidate selection on the stance-articles corpus, per language: how many evidence sentences the (sentence,
actor) candidates keep (recall), how many candidates there are, and the share of `none`-labelled (article,
target) pairs that still get a candidate (each one is a chance to invent a stance). Pure Python: no model.

    python -m benchmarks.speakers [--misses N] [--lang en|ko]
"""
from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict

from benchmarks.common import SHARED, report
from classifiers.speakers import candidate_sentences

CORPUS = SHARED / "corpus" / "stance-articles" / "articles.jsonl"
_NON_WORD = re.compile(r"[^\w]+")


def tokens(text: str) -> list[str]:
    return [t for t in _NON_WORD.split(text.lower()) if t]


def overlaps(evidence: str, candidate: str) -> bool:
    """Sentence boundaries differ between a reader and a splitter: an evidence sentence is kept when a
    candidate contains it, is a part of it with at least 30% of its words, or holds most (0.6) of its words."""
    e, c = " ".join(tokens(evidence)), " ".join(tokens(candidate))
    if not e or not c:
        return False
    if e in c:
        return True
    ev = tokens(evidence)
    if c in e and len(c.split()) >= 0.3 * len(ev):
        return True  # a candidate that is a good part of the evidence (a reader's sentence split in two)
    cand = set(tokens(candidate))
    return sum(t in cand for t in ev) / len(ev) >= 0.6


def measure(rows: list[dict], misses: int = 0) -> dict[str, dict[str, float]]:
    stats: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    shown = 0
    for r in rows:
        lang = r["language"]
        pairs = candidate_sentences(f"{r['title']}\n\n{r['text']}")
        by_actor: dict[str, list[str]] = defaultdict(list)
        for s, a in pairs:
            by_actor[a].append(s)
        st = stats[lang]
        st["articles"] += 1
        st["candidates"] += len(pairs)
        for actor, label in r["labels"].items():
            if label == "none":
                st["none_targets"] += 1
                st["none_with_candidates"] += bool(by_actor.get(actor))
                st["none_candidates"] += len(by_actor.get(actor, []))
                continue
            st["stance_targets"] += 1
            st["stance_with_candidates"] += bool(by_actor.get(actor))
            for ev in r["evidence"].get(actor, []):
                st["evidence"] += 1
                kept = any(overlaps(ev, c) for c in by_actor.get(actor, []))
                st["evidence_kept"] += kept
                if not kept and shown < misses:
                    shown += 1
                    print(f"MISS {r['id']} {actor}: {ev}")
    return stats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--misses", type=int, default=0, help="print up to N evidence sentences no candidate keeps")
    ap.add_argument("--lang", choices=("en", "ko"), help="only this language")
    ap.add_argument("--none-candidates", action="store_true", help="print the candidates of `none` targets")
    args = ap.parse_args()
    rows = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    if args.lang:
        rows = [r for r in rows if r["language"] == args.lang]
    if args.none_candidates:
        for r in rows:
            pairs = candidate_sentences(f"{r['title']}\n\n{r['text']}")
            for actor, label in r["labels"].items():
                if label == "none":
                    for s, a in pairs:
                        if a == actor:
                            print(f"NONE {r['id']} {actor}: {s}")
    stats = measure(rows, args.misses)
    table, figures = [], {}
    for lang in sorted(stats):
        st = stats[lang]
        recall = st["evidence_kept"] / max(st["evidence"], 1)
        none_share = st["none_with_candidates"] / max(st["none_targets"], 1)
        covered = st["stance_with_candidates"] / max(st["stance_targets"], 1)
        table += [
            (f"{lang} articles", f"{int(st['articles'])}"),
            (f"{lang} evidence recall", f"{recall:.3f} ({int(st['evidence_kept'])}/{int(st['evidence'])})"),
            (f"{lang} stance targets with a candidate", f"{covered:.3f} of {int(st['stance_targets'])}"),
            (f"{lang} none targets with a candidate",
             f"{none_share:.3f} ({int(st['none_with_candidates'])}/{int(st['none_targets'])}; "
             f"{int(st['none_candidates'])} candidates)"),
            (f"{lang} candidates", f"{int(st['candidates'])}"),
        ]
        figures[f"{lang}_recall"] = recall
        figures[f"{lang}_none_with_candidates"] = none_share
        figures[f"{lang}_candidates"] = int(st["candidates"])
    report("speakers", table, figures)


if __name__ == "__main__":
    main()
