"""Stance-shift detection, per actor, against the current reference regime.

Pure functions over a series of article verdicts, ordered by publication date (then URL), never by arrival, so
a backfill and daily runs over the same articles agree. The first reference is the seed profile; after a
confirmed shift the new regime is the reference.

The default method (`llr`) is a likelihood-ratio CUSUM whose threshold is stated in time:

- Each article's judged stance and confidence band is an observation whose likelihood under a regime (the true
  stance Seoul holds toward the actor) comes from the classifier's measured error profile
  (classifiers/confusion.py: P(judged, band | true label) on a labelled corpus) and from how mixed the articles of
  one regime are (P(article label | regime), measured on the corpus's regimes; `regime_purity` when unmeasured).
- For each alternative regime S the statistic W_S = max(0, W_S + log P(obs | S) / P(obs | R)) runs; a CUSUM on
  log-likelihood ratios has an in-control run length of at least e^h articles (Lorden), so two alternatives
  false-alarm at most 2 e^-h per article. At the stream's own rate lambda (articles per target per year,
  estimated from the last `rate_window` articles before each one) the threshold h = ln(2 lambda / phi) holds
  false alarms to at most phi per target per year, whatever the density: a sparse archive needs a few
  articles to move, a dense stream a few more articles but far fewer days.

On top of the statistic: at least `min_articles` articles on two days or from two outlets, a cool-down after
each shift, and the evidence of the articles that moved it. The earlier method (`score-cusum`: a CUSUM of
scores with a fixed sigma, threshold in articles) is kept for comparison.

The records (Observation, Shift, DetectorConfig) live in classifiers.shift_records and are imported from
here; the likelihood model in classifiers.likelihood; simulated streams in classifiers.shift_simulation.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from classifiers.confusion import STANCES, ErrorProfile, default_profile
from classifiers.likelihood import LikelihoodModel, rate_estimate, threshold_for
from classifiers.shift_records import DetectorConfig, Evidence, Observation, Shift, stance_of


def detect(actor: str, series: list[Observation], reference: float, cfg: DetectorConfig = DetectorConfig(),
           profile: ErrorProfile | None = None) -> list[Shift]:
    """All confirmed shifts in the series, in order. After each, the reference moves to the new regime."""
    series = sorted(series, key=lambda o: (o.published, o.url))
    if cfg.method == "score-cusum":
        return _detect_score_cusum(actor, series, reference, cfg)
    if cfg.method != "llr":
        raise ValueError(f"unknown shift detection method {cfg.method!r} (llr or score-cusum)")
    model = LikelihoodModel(profile or default_profile(), cfg.regime_purity)
    shifts: list[Shift] = []
    ref_stance, ref_score = stance_of(reference), reference
    sides = {s: _Side() for s in STANCES if s != ref_stance}
    cooldown_until: date | None = None
    last_direction = 0
    days: list[date] = []
    for obs in series:
        days.append(obs.published)
        window = days[-cfg.rate_window:]
        # the rate before this article (its own day included, so a first article does not see an empty window)
        rate = rate_estimate(window)
        h = threshold_for(rate, cfg.false_alarms_per_year)
        for new, side in sides.items():
            side.add(model.llr(obs, new, ref_stance), obs)
        for new, side in sides.items():
            if side.s <= h or not _diverse(side.members, cfg.min_articles):
                continue
            if cooldown_until and obs.published < cooldown_until and _direction(ref_stance, new) != last_direction:
                side.s, side.members = 0.0, []  # a reversal inside the cool-down: flapping, not a shift
                continue
            # which new regime: the one that explains the articles since the change best (a flip seen first
            # through its neutral-looking articles is still reported as the flip)
            best = max(sides, key=lambda c: (model.loglik(side.members, c), c == new))
            statistic = sum(model.llr(m, best, ref_stance) for m in side.members)
            new, side = best, _Side(statistic, side.members)
            new_score = sum(m.score for m in side.members) / len(side.members)
            shifts.append(_shift(actor, ref_stance, ref_score, new, new_score, side.members, cfg,
                                 statistic=side.s, threshold=h, rate=rate))
            cooldown_until = obs.published + timedelta(days=cfg.cooldown_days)
            last_direction = _direction(ref_stance, new)
            ref_stance, ref_score = new, new_score
            sides = {s: _Side() for s in STANCES if s != ref_stance}
            break
    return shifts


def _direction(before: str, after: str) -> int:
    """+1 toward cooperation, -1 toward confrontation. Inside the cool-down a shift that goes on in the same
    direction (confrontational -> neutral, then neutral -> cooperative) is let through: it completes a move."""
    order = {"confrontational": -1, "neutral": 0, "cooperative": 1}
    return (order[after] > order[before]) - (order[after] < order[before])


@dataclass
class _Side:
    s: float = 0.0
    members: list[Observation] = field(default_factory=list)

    def add(self, llr: float, obs: Observation) -> None:
        self.s = max(0.0, self.s + llr)
        if self.s == 0.0:
            self.members = []
        else:
            self.members.append(obs)

    def update(self, z: float, weight: float, k: float, obs: Observation) -> None:
        self.add(weight * (z - k), obs)


def _detect_score_cusum(actor: str, series: list[Observation], reference: float, cfg: DetectorConfig) -> list[Shift]:
    """The earlier method: a two-sided CUSUM of confidence-weighted scores, threshold in articles."""
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
                shifts.append(_shift(actor, stance_of(ref), ref, stance_of(new_ref), new_ref, side.members, cfg,
                                     statistic=side.s, threshold=cfg.h, rate=0.0))
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


def _shift(actor: str, from_stance: str, ref: float, to: str, new_ref: float, members: list[Observation],
           cfg: DetectorConfig, *, statistic: float, threshold: float, rate: float) -> Shift:
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
        actor=actor, from_stance=from_stance, to_stance=to, from_score=round(ref, 3), to_score=round(new_ref, 3),
        magnitude=round(abs(new_ref - ref), 3), confidence=round(confidence, 3),
        detected_at=members[-1].published, first_date=members[0].published, last_date=members[-1].published,
        articles=tuple(dict.fromkeys(m.url for m in members)), evidence=tuple(evidence),
        statistic=round(statistic, 3), threshold=round(threshold, 3), rate_per_day=round(rate, 4), method=cfg.method,
    )
