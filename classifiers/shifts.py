"""Stance-shift detection: a two-sided CUSUM in article time, per actor, against the current reference.

Pure functions over a time-ordered series of article verdicts. The series is ordered by publication
date (then URL), never by arrival, so a backfill and daily runs over the same articles agree.
"""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

def stance_of(score: float) -> str:
    return "cooperative" if score >= 1 / 3 else "confrontational" if score <= -1 / 3 else "neutral"


@dataclass(frozen=True)
class Observation:
    """One article's verdict toward one actor, as the detector sees it."""
    url: str
    published: date
    score: float
    confidence: float
    stance: str
    title: str = ""
    source: str = ""
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class Evidence:
    sentence: str
    title: str
    url: str
    published: date


@dataclass(frozen=True)
class Shift:
    actor: str
    from_stance: str
    to_stance: str
    from_score: float
    to_score: float
    magnitude: float
    confidence: float
    detected_at: date  # publication date of the article that confirmed the shift
    first_date: date
    last_date: date
    articles: tuple[str, ...]
    evidence: tuple[Evidence, ...]

    @property
    def key(self) -> str:
        """Stable identity: the same shift found again (a rerun, a backfill) has the same key."""
        raw = f"{self.actor}|{self.from_stance}|{self.to_stance}|{self.detected_at}|{self.articles[-1]}"
        return hashlib.sha256(raw.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class DetectorConfig:
    k: float = 0.5  # allowance, in standard deviations: half the smallest shift worth finding
    h: float = 5.0  # decision threshold; in-control run length >= 400 articles (see simulate_run_length)
    sigma: float = 0.5  # spread of article scores around a stable regime's mean
    min_articles: int = 2
    cooldown_days: int = 7
    max_evidence: int = 3


@dataclass
class _Side:
    s: float = 0.0
    members: list[Observation] = field(default_factory=list)

    def update(self, z: float, weight: float, k: float, obs: Observation) -> None:
        self.s = max(0.0, self.s + weight * (z - k))
        if self.s == 0.0:
            self.members = []
        else:
            self.members.append(obs)


def detect(actor: str, series: list[Observation], reference: float, cfg: DetectorConfig = DetectorConfig()) -> list[Shift]:
    """All confirmed shifts in the series, in order. After each, the reference moves to the new regime."""
    series = sorted(series, key=lambda o: (o.published, o.url))
    shifts: list[Shift] = []
    ref = reference
    up, down = _Side(), _Side()
    cooldown_until: date | None = None
    for obs in series:
        z = (obs.score - ref) / cfg.sigma
        w = max(0.0, min(1.0, obs.confidence))
        up.update(z, w, cfg.k, obs)
        down.update(-z, w, cfg.k, obs)
        for side in (up, down):
            if side.s <= cfg.h or not _diverse(side.members, cfg.min_articles):
                continue
            if cooldown_until and obs.published < cooldown_until:
                side.s, side.members = 0.0, []
                continue
            new_ref = sum(m.score for m in side.members) / len(side.members)
            if stance_of(new_ref) != stance_of(ref):
                shifts.append(_shift(actor, ref, new_ref, side.members, cfg))
                cooldown_until = obs.published + timedelta(days=cfg.cooldown_days)
            ref = new_ref  # the new regime is the reference from now on, alert or not
            up, down = _Side(), _Side()
            break
    return shifts


def _diverse(members: list[Observation], n: int) -> bool:
    """At least n articles, on at least two days or from at least two outlets."""
    if len({m.url for m in members}) < n:
        return False
    return len({m.published for m in members}) >= 2 or len({m.source for m in members if m.source}) >= 2


def _shift(actor: str, ref: float, new_ref: float, members: list[Observation], cfg: DetectorConfig) -> Shift:
    to = stance_of(new_ref)
    agreeing = [m for m in members if m.stance == to]
    confidence = (sum(m.confidence for m in agreeing) / len(members)) if members else 0.0
    ranked = sorted(agreeing or members, key=lambda m: (-m.confidence, m.published, m.url))
    evidence = []
    for m in ranked:
        if m.evidence:
            evidence.append(Evidence(m.evidence[0], m.title, m.url, m.published))
        if len(evidence) >= cfg.max_evidence:
            break
    return Shift(
        actor=actor, from_stance=stance_of(ref), to_stance=to, from_score=round(ref, 3), to_score=round(new_ref, 3),
        magnitude=round(abs(new_ref - ref), 3), confidence=round(confidence, 3),
        detected_at=members[-1].published, first_date=members[0].published, last_date=members[-1].published,
        articles=tuple(dict.fromkeys(m.url for m in members)), evidence=tuple(evidence),
    )


def simulate_run_length(cfg: DetectorConfig, *, runs: int = 200, max_len: int = 5000, seed: int = 7,
                        shift: float = 0.0, noise: float | None = None, confidence: float = 1.0) -> list[int]:
    """Articles until the first alarm of the bare CUSUM (no diversity or label rule), for a series
    whose mean moves by `shift` (in score units) at article 0; noise is Gaussian with sd `noise`
    (default cfg.sigma). With shift=0 this is the in-control run length (false-alarm spacing)."""
    rng = random.Random(seed)
    noise = cfg.sigma if noise is None else noise
    out = []
    for _ in range(runs):
        up = down = 0.0
        n = 0
        while n < max_len:
            n += 1
            z = (shift + rng.gauss(0.0, noise)) / cfg.sigma
            up = max(0.0, up + confidence * (z - cfg.k))
            down = max(0.0, down + confidence * (-z - cfg.k))
            if up > cfg.h or down > cfg.h:
                break
        out.append(n)
    return out
