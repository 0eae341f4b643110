"""The classifier's measured error profile, as the shift detector reads it.

`P(judged stance, confidence band | true stance)` per article and target, measured on a labelled corpus: each
(true label, judged stance, confidence) triple is kept, so that the detector can build its likelihoods and the
synthetic benchmark can draw realistic judgments from the same numbers. Stored in seeds/model/confusion.json,
beside the model it describes; the calibration can rewrite it with `confusion_from_corpus` after a refit.
Pure: no model, no database.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Iterable

STANCES = ("cooperative", "neutral", "confrontational")
TRUE_LABELS = STANCES + ("none",)  # `none`: the target is mentioned, but the text shows no stance of Seoul's
NO_JUDGMENT = "no judgment"
FILE_NAME = "confusion.json"
VERSION = 1


@dataclass(frozen=True)
class ErrorProfile:
    """The measured triples, and what the detector derives from them.

    pairs: (true label, judged stance or NO_JUDGMENT, confidence of the judged stance or 0.0).
    bands: upper edges of the confidence bands the detector distinguishes (the last is 1.0).
    """
    pairs: tuple[tuple[str, str, float], ...]
    bands: tuple[float, ...] = (0.6, 0.8, 1.0)
    prior: float = 1.0  # Dirichlet pseudo-count per cell, spread toward the pooled rates
    source: str = "default"
    # How mixed a regime's articles are: counts of article labels (TRUE_LABELS) inside the true regimes of a
    # labelled timeline, per regime stance. A property of the news, not of the model; None: not measured.
    regime_labels: dict[str, dict[str, int]] | None = field(default=None, compare=False, hash=False)
    meta: dict = field(default_factory=dict, compare=False, hash=False)

    def band(self, confidence: float) -> int:
        for i, edge in enumerate(self.bands):
            if confidence <= edge:
                return i
        return len(self.bands) - 1

    def counts(self) -> dict[str, dict[str, int]]:
        """Rows: true label; columns: judged stance and NO_JUDGMENT (the matrix a person reads)."""
        out = {t: {j: 0 for j in STANCES + (NO_JUDGMENT,)} for t in TRUE_LABELS}
        for t, j, _ in self.pairs:
            if t in out and j in out[t]:
                out[t][j] += 1
        return out

    def judged_given_true(self) -> dict[str, dict[tuple[str, int], float]]:
        """P(judged stance, confidence band | true label, a judgment was made), smoothed so that no cell is zero
        (a zero would make one article decisive): P(stance | true) gets `prior` pseudo-counts per stance spread
        by the pooled stance rates, and P(band | stance, true) gets `prior` per band spread by that stance's
        pooled band rates, so a band with few measurements keeps the stance's information."""
        nb = len(self.bands)
        judged = [(t, j, self.band(c)) for t, j, c in self.pairs if j in STANCES and t in TRUE_LABELS]
        n_j = {j: 1.0 + sum(1 for _, jj, _ in judged if jj == j) for j in STANCES}
        p_j = {j: n / sum(n_j.values()) for j, n in n_j.items()}
        p_b = {j: {b: (1.0 + sum(1 for _, jj, bb in judged if jj == j and bb == b)) / (n_j[j] - 1 + nb)
                   for b in range(nb)} for j in STANCES}
        out = {}
        for t in TRUE_LABELS:
            rows = [(j, b) for tt, j, b in judged if tt == t]
            n_t = len(rows)
            out[t] = {}
            for j in STANCES:
                n_tj = sum(1 for jj, _ in rows if jj == j)
                pj = (n_tj + self.prior * len(STANCES) * p_j[j]) / (n_t + self.prior * len(STANCES))
                for b in range(nb):
                    n_tjb = sum(1 for jj, bb in rows if jj == j and bb == b)
                    out[t][(j, b)] = pj * (n_tjb + self.prior * nb * p_b[j][b]) / (n_tj + self.prior * nb)
        return out

    def judged_rate(self) -> dict[str, float]:
        """P(a judgment is made | true label): how often an article with that label yields a verdict."""
        out = {}
        for t in TRUE_LABELS:
            rows = [j for tt, j, _ in self.pairs if tt == t]
            out[t] = (sum(j in STANCES for j in rows) + 1) / (len(rows) + 2)
        return out

    def regime_mix(self, purity: float) -> dict[str, dict[str, float]]:
        """P(article label | regime stance): measured (one pseudo-count per cell) when the profile carries
        regime_labels, else `purity` on the regime's own stance and the rest spread evenly."""
        out = {}
        for r in STANCES:
            counts = (self.regime_labels or {}).get(r)
            if counts:
                total = sum(counts.get(t, 0) + 1 for t in TRUE_LABELS)
                out[r] = {t: (counts.get(t, 0) + 1) / total for t in TRUE_LABELS}
            else:
                out[r] = {t: purity if t == r else (1 - purity) / (len(TRUE_LABELS) - 1) for t in TRUE_LABELS}
        return out

    def draws(self, true: str) -> list[tuple[str, float]]:
        """The measured (judged stance or NO_JUDGMENT, confidence) outcomes for articles with this true label."""
        return [(j, c) for t, j, c in self.pairs if t == true]

    def as_json(self) -> dict:
        out = {"version": VERSION, "source": self.source, **self.meta, "bands": list(self.bands), "prior": self.prior,
               "counts": self.counts()}
        if self.regime_labels:
            out["regime_labels"] = self.regime_labels
        out["pairs"] = [[t, j, round(c, 3)] for t, j, c in self.pairs]
        return out


def confusion_from_corpus(labelled: Iterable[tuple[str, str | None, float | None]], *, source: str,
                          meta: dict | None = None, regime_labels: dict | None = None) -> ErrorProfile:
    """Build the profile from (true label, judged stance or None when the classifier gave no judgment,
    its confidence). The calibration calls this on its held-out predictions after a refit; the replay
    benchmark on the stance-articles corpus."""
    pairs = []
    for true, judged, conf in labelled:
        if true not in TRUE_LABELS:
            continue
        if judged in STANCES:
            pairs.append((true, judged, float(conf or 0.0)))
        else:
            pairs.append((true, NO_JUDGMENT, 0.0))
    return ErrorProfile(tuple(pairs), source=source, meta={"measured": date.today().isoformat(), **(meta or {})},
                        regime_labels=regime_labels)


def write_profile(profile: ErrorProfile, model_dir: Path) -> Path:
    path = Path(model_dir) / FILE_NAME
    path.write_text(json.dumps(profile.as_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def default_profile() -> ErrorProfile:
    """When no measurement exists (a fresh model): a classifier right on 6 articles in 10, wrong in direction
    on 1 in 10, judging a `none` article 1 time in 3, at confidences spread over the bands. Deliberately pessimistic:
    it makes the detector slower, never more trigger-happy, than a measured profile would."""
    rows = {"cooperative": (6, 2, 1, 1), "neutral": (2, 6, 2, 1), "confrontational": (1, 2, 6, 1), "none": (1, 1, 1, 6)}
    pairs: list[tuple[str, str, float]] = []
    for t, counts in rows.items():
        for j, n in zip(STANCES + (NO_JUDGMENT,), counts):
            pairs += [(t, j, 0.0) if j == NO_JUDGMENT else (t, j, (0.55, 0.7, 0.9)[k % 3]) for k in range(n)]
    return ErrorProfile(tuple(pairs), source="default (no measurement found)")


def load_profile(model_dir: Path | None) -> ErrorProfile:
    """The profile stored beside the model, or the default when there is none (or it cannot be read)."""
    if model_dir is None:
        return default_profile()
    path = Path(model_dir) / FILE_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        pairs = tuple((str(t), str(j), float(c)) for t, j, c in data["pairs"])
        meta = {k: v for k, v in data.items()
                if k not in ("pairs", "counts", "bands", "prior", "source", "version", "regime_labels")}
        regimes = data.get("regime_labels")
        if regimes is not None:
            regimes = {str(r): {str(t): int(n) for t, n in row.items()} for r, row in regimes.items()}
        return ErrorProfile(pairs, bands=tuple(data.get("bands", (0.6, 0.8, 1.0))), prior=float(data.get("prior", 1.0)),
                            source=str(data.get("source", path.name)), meta=meta, regime_labels=regimes)
    except (OSError, ValueError, KeyError, TypeError):
        return default_profile()
