"""The records of shift detection: an article's verdict as the detector sees it (Observation), a confirmed shift
and its evidence, and the detector's settings (classifiers.shifts runs the detector over them)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date

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
    # How it was found (stored with the alert, shown in its body and in `kstance alerts`): the statistic and
    # threshold at confirmation, the article rate the threshold was set for, and the method. Not part of the
    # shift's identity: a rerun that finds the same shift with another statistic finds the same alert.
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
    false_alarms_per_year: float = 0.4  # per target, at the stream's own article rate (llr)
    regime_purity: float = 0.65  # share of a regime's articles whose own label is the regime's stance (llr)
    rate_window: int = 20  # articles before each one from which its stream's rate is estimated (llr)
    k: float = 0.5  # score-cusum: allowance, in standard deviations
    h: float = 5.0  # score-cusum: threshold; in-control run length >= 400 articles (see simulate_run_length)
    sigma: float = 0.5  # score-cusum: spread of article scores around a stable regime's mean
    min_articles: int = 2
    cooldown_days: int = 7
    max_evidence: int = 3

