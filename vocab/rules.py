"""Rules that more than one package applies, each written once."""
from __future__ import annotations

from datetime import timedelta

from vocab.states import Stance

STANCE_THRESHOLD = 1 / 3  # a score in [-1, 1] at or beyond +-1/3 is a stance; between them, neutral


def stance_of(score: float) -> Stance:
    """The three-way stance a score in [-1, 1] stands for."""
    if score >= STANCE_THRESHOLD:
        return Stance.COOPERATIVE
    if score <= -STANCE_THRESHOLD:
        return Stance.CONFRONTATIONAL
    return Stance.NEUTRAL


def backoff(base: timedelta, failures: int, cap: int | None = None) -> timedelta:
    """base x 2^failures, the factor capped at `cap` when given: 0 failures -> base, 1 -> 2 x base, ..."""
    factor = 2 ** max(0, failures)
    return base * (min(factor, cap) if cap else factor)
