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
"""
from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from classifiers.confusion import STANCES, TRUE_LABELS, ErrorProfile, default_profile
from vocab.rules import stance_of as stance_rule


def stance_of(score: float) -> str:
    """The stance a score stands for, as a plain string (the rule itself: vocab.rules.stance_of)."""
    return stance_rule(score).value


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
    # How it was found (not stored; for benchmarks and logs): the statistic and threshold at confirmation,
    # the article rate the threshold was set for, and the method.
    statistic: float = field(default=0.0, compare=False)
    threshold: float = field(default=0.0, compare=False)
    rate_per_day: float = field(default=0.0, compare=False)
    method: str = field(default="", compare=False)

    @property
    def key(self) -> str:
        """Stable identity: the same shift found again (a rerun, a backfill) has the same key."""
        raw = f"{self.actor}|{self.from_stance}|{self.to_stance}|{self.detected_at}|{self.articles[-1]}"
        return hashlib.sha256(raw.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class DetectorConfig:
    method: str = "llr"  # "llr" (time-stated likelihood-ratio CUSUM) or "score-cusum" (the earlier method)
    false_alarms_per_year: float = 0.5  # per target, at the stream's own article rate (llr)
    regime_purity: float = 0.65  # share of a regime's articles whose own label is the regime's stance (llr)
    rate_window: int = 20  # articles before each one from which its stream's rate is estimated (llr)
    k: float = 0.5  # score-cusum: allowance, in standard deviations
    h: float = 5.0  # score-cusum: threshold; in-control run length >= 400 articles (see simulate_run_length)
    sigma: float = 0.5  # score-cusum: spread of article scores around a stable regime's mean
    min_articles: int = 2
    cooldown_days: int = 7
    max_evidence: int = 3


class LikelihoodModel:
    """log P(observation | regime) for the three regimes, from the error profile and the regime purity.

    An article in regime R has its own true label T with P(T | R) as measured on the corpus's regimes (or, when
    the profile carries none, `purity` for T = R and the rest spread evenly over the other labels); the
    classifier then judges it (or not) with the measured rates. Only
    judged articles reach the detector, so the likelihood is conditional on a judgment being made."""

    def __init__(self, profile: ErrorProfile, purity: float):
        self.profile = profile
        p_obs = profile.judged_given_true()
        judged = profile.judged_rate()
        self.log_p: dict[str, dict[tuple[str, int], float]] = {}
        self.mix = profile.regime_mix(purity)
        for regime in STANCES:
            mix = self.mix[regime]
            weights = {t: mix[t] * judged[t] for t in TRUE_LABELS}
            total = sum(weights.values())
            cells = p_obs[STANCES[0]].keys()
            self.log_p[regime] = {c: math.log(sum(weights[t] * p_obs[t][c] for t in TRUE_LABELS) / total)
                                  for c in cells}

    def llr(self, obs: Observation, new: str, ref: str) -> float:
        if obs.stance not in STANCES:
            return 0.0
        cell = (obs.stance, self.profile.band(obs.confidence))
        return self.log_p[new][cell] - self.log_p[ref][cell]

    def loglik(self, observations: list[Observation], regime: str) -> float:
        return sum(self.log_p[regime][(o.stance, self.profile.band(o.confidence))] for o in observations
                   if o.stance in STANCES)

    def drift(self, true: str, new: str, ref: str) -> float:
        """Expected log-likelihood ratio per article when the truth is `true` (KL divergence when true == new)."""
        p = self.log_p[true]
        return sum(math.exp(p[c]) * (self.log_p[new][c] - self.log_p[ref][c]) for c in p)


def threshold_for(rate_per_day: float, false_alarms_per_year: float) -> float:
    """h such that two LLR CUSUMs (two alternatives) at this article rate false-alarm at most
    false_alarms_per_year: in-control run length >= e^h articles each (Lorden's bound)."""
    per_year = max(rate_per_day, 1e-6) * 365.25
    return max(1.0, math.log(2 * per_year / false_alarms_per_year))


def rate_estimate(days: list[date]) -> float:
    """Articles per day over the given window of publication dates (in order): n articles over their span,
    counting whole days (20 articles on one day: 20 a day)."""
    span = (days[-1] - days[0]).days + 1
    return len(days) / span


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


def synthetic_series(profile: ErrorProfile, *, rate_per_day: float, days: float, regimes: list[tuple[float, str]],
                     purity: float = 0.7, seed: int = 0, start: date = date(2020, 1, 1),
                     outlets: tuple[str, ...] = ("Yonhap", "KBS", "Korea Herald", "Hankyoreh", "JoongAng"),
                     prefix: str = "https://synthetic.example/") -> list[Observation]:
    """A stream of judged articles drawn from the classifier's measured error profile.

    Articles arrive as a Poisson process at `rate_per_day` (judged articles toward one target); `regimes` is
    [(day it starts, stance), ...] from day 0. Each article has its own true label, drawn from the regime's
    measured mix (or `purity`, as in LikelihoodModel), and its judged stance and confidence are one of the
    measured outcomes for that true label."""
    rng = random.Random(seed)
    judged_draws = {t: [(j, c) for j, c in profile.draws(t) if j in STANCES] for t in TRUE_LABELS}
    rate = profile.judged_rate()
    mix = profile.regime_mix(purity)
    out: list[Observation] = []
    t, i = 0.0, 0
    while True:
        t += rng.expovariate(rate_per_day)
        if t >= days:
            return out
        regime = [s for d, s in regimes if d <= t][-1]
        labels = [x for x in TRUE_LABELS if judged_draws[x]]
        weights = [mix[regime][x] * rate[x] for x in labels]
        true = rng.choices(labels, weights)[0]
        stance, conf = rng.choice(judged_draws[true])
        score = conf if stance == "cooperative" else -conf if stance == "confrontational" else 0.0
        out.append(Observation(f"{prefix}{i:07d}", start + timedelta(days=int(t)), score, conf, stance,
                               f"synthetic {i} ({true})", rng.choice(outlets), (f"evidence {i}",)))
        i += 1
