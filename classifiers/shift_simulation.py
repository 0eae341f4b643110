"""Simulated article streams for the shift detector: the bare score CUSUM's run length, and judged articles drawn
from the classifier's measured error profile (tests and benchmarks/shift_synthetic.py)."""
from __future__ import annotations

import random
from datetime import date, timedelta

from classifiers.confusion import STANCES, TRUE_LABELS, ErrorProfile
from classifiers.shift_records import DetectorConfig, Observation


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
