"""The true regimes of the stance-articles corpus and the scoring of alerts against them (the rules are in
benchmarks/shift_replay.py's docstring)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from classifiers.actors import ACTORS
from classifiers.confusion import STANCES, TRUE_LABELS
from classifiers.shifts import Shift

ON_TIME_ARTICLES, ON_TIME_DAYS = 3, 30


@dataclass(frozen=True)
class Change:
    actor: str
    from_stance: str
    to_stance: str
    start: date
    index: int  # position of the regime's first article in the target's labelled sequence
    initial: bool = False

    @property
    def flip(self) -> bool:
        return {self.from_stance, self.to_stance} == {"cooperative", "confrontational"}


def labelled_sequence(corpus: list[dict], actor: str) -> list[tuple[date, str, str]]:
    """(date, label, url) of the articles with a stance label toward the actor, in date order."""
    return [(date.fromisoformat(a["date"]), a["labels"][actor], a["source_url"]) for a in corpus
            if a["labels"].get(actor) in STANCES]


def true_changes(corpus: list[dict], actor: str, seed_stance: str) -> list[Change]:
    """The regime rule of the module docstring."""
    seq = labelled_sequence(corpus, actor)
    out: list[Change] = []
    current = None
    for i in range(len(seq) - 1):
        label = seq[i][1]
        if seq[i + 1][1] == label and label != current:
            before = seed_stance if current is None else current
            if before != label:
                out.append(Change(actor, before, label, seq[i][0], i, initial=current is None))
            current = label
    return out


def regime_label_counts(corpus: list[dict], seed: dict[str, str]) -> dict[str, dict[str, int]]:
    """Per regime stance: how many of the articles inside the targets' true regimes carry each label (none
    included), from each target's first regime on. How mixed a regime's coverage is; the detector's P(label |
    regime)."""
    out = {r: {t: 0 for t in TRUE_LABELS} for r in STANCES}
    for actor in ACTORS:
        changes = true_changes(corpus, actor, seed.get(actor, "neutral"))
        if not changes:
            continue
        for a in corpus:
            label = a["labels"].get(actor)
            d = date.fromisoformat(a["date"])
            if label not in TRUE_LABELS or d < changes[0].start:
                continue
            out[[c.to_stance for c in changes if c.start <= d][-1]][label] += 1
    return out


def regime_purity(corpus: list[dict], seed: dict[str, str]) -> float:
    """The share of labels (none included) inside the true regimes that equal the regime's stance."""
    agree = total = 0
    for actor in ACTORS:
        changes = true_changes(corpus, actor, seed.get(actor, "neutral"))
        if not changes:
            continue
        first = changes[0].start
        rows = [(date.fromisoformat(a["date"]), a["labels"][actor]) for a in corpus if actor in a["labels"]]
        for d, label in rows:
            if d < first:
                continue
            regime = [c.to_stance for c in changes if c.start <= d][-1]
            total += 1
            agree += label == regime
    return agree / total if total else 0.0


# -- scoring --------------------------------------------------------------------------------------------------

@dataclass
class Outcome:
    change: Change
    verdict: str  # found, late, missed, initial
    alert: Shift | None = None
    delay_days: int | None = None
    delay_articles: int | None = None


def score(corpus: list[dict], shifts: dict[str, list[Shift]], seed: dict[str, str]):
    outcomes: list[Outcome] = []
    false: list[Shift] = []
    for actor in ACTORS:
        changes = true_changes(corpus, actor, seed.get(actor, "neutral"))
        seq = labelled_sequence(corpus, actor)
        used: set[int] = set()
        for n, c in enumerate(changes):
            end = changes[n + 1].start if n + 1 < len(changes) else date.max
            match = next((i for i, s in enumerate(shifts.get(actor, [])) if i not in used and s.to_stance == c.to_stance
                          and c.start <= s.detected_at < end), None)
            if match is None:
                outcomes.append(Outcome(c, "initial" if c.initial else "missed"))
                continue
            used.add(match)
            s = shifts[actor][match]
            days = (s.detected_at - c.start).days
            arts = sum(1 for d, _, _ in seq[c.index:] if d <= s.detected_at)
            on_time = arts <= ON_TIME_ARTICLES or days <= ON_TIME_DAYS
            verdict = "initial" if c.initial else ("found" if on_time else "late")
            outcomes.append(Outcome(c, verdict, s, days, arts))
        initial_targets = {c.to_stance for c in changes if c.initial}
        for i, s in enumerate(shifts.get(actor, [])):
            if i in used:
                continue
            if changes and changes[0].initial and s.detected_at < (changes[1].start if len(changes) > 1 else date.max) \
                    and s.to_stance in initial_targets:
                continue  # an alignment from the seed stance toward the first regime
            false.append(s)
    return outcomes, false


def years_covered(corpus: list[dict]) -> float:
    first, last = date.fromisoformat(corpus[0]["date"]), date.fromisoformat(corpus[-1]["date"])
    return (last - first).days / 365.25
