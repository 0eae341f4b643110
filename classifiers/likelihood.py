"""The likelihood model of the `llr` detector (classifiers.shifts): log P(judged stance, confidence band | regime)
from the classifier's measured error profile, and the threshold that states the false-alarm rate in time."""
from __future__ import annotations

import math
from datetime import date

from classifiers.confusion import STANCES, TRUE_LABELS, ErrorProfile
from classifiers.shift_records import Observation


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
