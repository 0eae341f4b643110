"""The real-style article corpus (../shared/corpus/stance-articles, copied into seeds/calibration/articles.jsonl):
reading it, folds grouped by month, sentence-level training pairs from its evidence, and article-level scoring
as the project's owners measure it (one verdict per labelled target; a target with no verdict is "no judgment")."""
from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from classifiers.corpus import Example, seeds_dir

STANCE_LABELS = ("cooperative", "neutral", "confrontational")
NO_JUDGMENT = "-"


@dataclass(frozen=True)
class LabelledArticle:
    id: str
    date: str
    language: str
    title: str
    text: str
    labels: dict[str, str]  # target -> cooperative | neutral | confrontational | none
    evidence: dict[str, list[str]]

    @property
    def month(self) -> str:
        return self.date[:7]

    @property
    def document(self) -> str:
        """What the classifier reads: the headline, then the body (as `kstance classify` on a page would)."""
        return f"{self.title}\n\n{self.text}" if self.title else self.text


def default_path() -> Path:
    return seeds_dir() / "calibration" / "articles.jsonl"


def read_articles(path: Path | None = None) -> list[LabelledArticle]:
    path = path or default_path()
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                r = json.loads(line)
                out.append(LabelledArticle(r["id"], r["date"], r["language"], r.get("title") or "", r["text"],
                                           dict(r["labels"]),
                                           {k: list(v) for k, v in (r.get("evidence") or {}).items()}))
    return out


def month_folds(articles: list[LabelledArticle], k: int, seed: int) -> list[int]:
    """Fold of each article: all articles of one calendar month on one side (an event's coverage stays
    together), months dealt round-robin in a seeded random order, so every fold spans the decade."""
    months = sorted({a.month for a in articles})
    random.Random(seed).shuffle(months)
    fold_of = {m: i % k for i, m in enumerate(months)}
    return [fold_of[a.month] for a in articles]


def _norm(s: str) -> str:
    return " ".join(s.split()).strip(" \"'“”‘’")


def overlaps(sentence: str, evidence: str) -> bool:
    """Does a sentence as our splitter cut it cover an evidence sentence as the annotators cut it?"""
    a, b = _norm(sentence), _norm(evidence)
    if not a or not b:
        return False
    return a in b or b in a or (len(a) > 40 and a[:40] in b) or (len(b) > 40 and b[:40] in a)


def sentence_examples(articles: list[LabelledArticle], candidates: dict[str, list[tuple[str, str]]] | None = None
                      ) -> list[Example]:
    """(sentence, target, label) pairs for training: every evidence sentence with its target's label; and, when
    the classifier's candidate sentences are given, each candidate of a `none`-labelled target as `none` (the
    sentences our selection would show the model for a target the article takes no stance toward)."""
    out = []
    for art in articles:
        for target, label in art.labels.items():
            if label == "none":
                continue
            for n, sentence in enumerate(art.evidence.get(target, [])):
                out.append(Example(f"{art.id}-{target}-e{n}", sentence, target, label, f"article:{art.id}", "seoul"))
        for n, (sentence, target) in enumerate((candidates or {}).get(art.id, [])):
            if art.labels.get(target) == "none":
                out.append(Example(f"{art.id}-{target}-n{n}", sentence, target, "none", f"article:{art.id}"))
    return out


def score(articles: list[LabelledArticle], predicted: dict[str, dict[str, str]]) -> dict:
    """Article-level figures over the labelled targets. `predicted[article id][target]` is a stance; a missing
    target is no judgment. 3-stance accuracy and the coop-vs-conf macro-F1 count no judgment as wrong."""
    gold, pred = [], []
    for art in articles:
        for target, label in art.labels.items():
            gold.append(label)
            pred.append(predicted.get(art.id, {}).get(target, NO_JUDGMENT))
    stance = [(g, p) for g, p in zip(gold, pred) if g in STANCE_LABELS]
    none = [p for g, p in zip(gold, pred) if g == "none"]
    polar = [(g, p) for g, p in stance if g != "neutral"]

    def f1(cls: str) -> float:  # over the cooperative and confrontational labels; any other verdict is a miss
        tp = sum(g == cls and p == cls for g, p in polar)
        fp = sum(g != cls and p == cls for g, p in polar)
        fn = sum(g == cls and p != cls for g, p in polar)
        return 2 * tp / (2 * tp + fp + fn) if tp else 0.0

    confusion: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for g, p in zip(gold, pred):
        confusion[g][p] += 1
    return {
        "articles": len(articles),
        "stance_labels": len(stance),
        "none_labels": len(none),
        "accuracy_3": round(sum(g == p for g, p in stance) / len(stance), 4) if stance else None,
        "macro_f1_coop_vs_conf": round((f1("cooperative") + f1("confrontational")) / 2, 4) if polar else None,
        "none_unjudged": round(sum(p == NO_JUDGMENT for p in none) / len(none), 4) if none else None,
        "stance_unjudged": round(sum(p == NO_JUDGMENT for _, p in stance) / len(stance), 4) if stance else None,
        "polarity_flips": sum({g, p} == {"cooperative", "confrontational"} for g, p in stance),
        "confusion": {g: dict(row) for g, row in confusion.items()},
    }


def score_per_target(articles: list[LabelledArticle], predicted: dict[str, dict[str, str]],
                     targets: tuple[str, ...] = ("US", "CN", "JP", "KP", "RU")) -> dict[str, dict]:
    """`score` restricted to one target's labels at a time."""
    out = {}
    for t in targets:
        subset = [LabelledArticle(a.id, a.date, a.language, a.title, a.text, {t: a.labels[t]}, a.evidence)
                  for a in articles if t in a.labels]
        if subset:
            out[t] = score(subset, predicted)
    return out
