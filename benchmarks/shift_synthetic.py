"""`python -m benchmarks.shift_synthetic`: the shift detector on synthetic streams drawn from the classifier's
measured error profile (seeds/model/confusion.json: per-article confusion and confidence on the stance corpus).

Each article's true label is drawn from the regime's label mix measured on the corpus's regimes
(seeds/model/confusion.json `regime_labels`), and its judged stance and confidence are a measured outcome for that
label (classifiers.shift_simulation.synthetic_series). At 0.1, 1, 5 and 20 judged articles per target per day:

- stable streams (each of the three stances, the seed reference equal to it): false alarms per target-year;
- a step change after a warm-up (full flips cooperative <-> confrontational, and moves to and from neutral):
  share found, and the delay (days and articles from the change to the confirming article), median and 90th
  percentile.

Bars: at 20 a day, at most 1 false alarm per target-year and a full flip found within 3 days; at 0.1 a day, at
most 1 false alarm per target per decade. `--quick` runs fewer streams; `--method score-cusum` the earlier method.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from datetime import date, timedelta

from benchmarks.common import machine
from classifiers.confusion import STANCES, load_profile
from classifiers.shift_simulation import synthetic_series
from classifiers.shifts import DetectorConfig, detect

RATES = (0.1, 1.0, 5.0, 20.0)
SCORE = {"cooperative": 0.7, "neutral": 0.0, "confrontational": -0.7}
START = date(2020, 1, 1)
FLIPS = (("cooperative", "confrontational"), ("confrontational", "cooperative"))
NEUTRAL_MOVES = (("cooperative", "neutral"), ("neutral", "confrontational"))


def stable_false_alarms(
    profile, stream_profile, cfg: DetectorConfig, rate: float, years: float, purity: float, seed: int
) -> tuple[int, float]:
    """Alarms over `years` target-years of stable streams (split over the three stances)."""
    alarms, covered = 0, 0.0
    per = years / 3
    for k, stance in enumerate(STANCES):
        days = per * 365.25
        obs = synthetic_series(stream_profile, rate_per_day=rate, days=days, regimes=[(0, stance)], purity=purity,
                               seed=seed * 31 + k)
        alarms += len(detect("XX", obs, SCORE[stance], cfg, profile))
        covered += per
    return alarms, covered


def step_delays(profile, stream_profile, cfg: DetectorConfig, rate: float, moves, runs: int, purity: float, seed: int):
    """Per run: (found, delay days, delay articles) for a change after a warm-up of max(60 days, 40 articles)."""
    out = []
    warm = max(60.0, 40 / rate)
    horizon = warm + max(30.0, 100 / rate)  # long enough for the slowest moves at each rate
    for r in range(runs):
        a, b = moves[r % len(moves)]
        obs = synthetic_series(
            stream_profile,
            rate_per_day=rate,
            days=horizon,
            regimes=[(0, a), (warm, b)],
            purity=purity,
            seed=seed * 1000 + r,
        )
        change_day = START + timedelta(days=int(warm))
        shifts = [
            s for s in detect("XX", obs, SCORE[a], cfg, profile) if s.detected_at >= change_day and s.to_stance == b
        ]
        if not shifts:
            out.append((False, None, None))
            continue
        s = shifts[0]
        arts = sum(1 for o in obs if change_day <= o.published <= s.detected_at)
        out.append((True, (s.detected_at - change_day).days, arts))
    return out


def pct(values, q):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))]


def arguments(argv: list[str] | None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--method", default=None)
    ap.add_argument("--false-alarms-per-year", type=float, default=None)
    ap.add_argument("--purity", type=float, default=None, help="the detector's regime purity")
    ap.add_argument("--stream-purity", type=float, default=None,
                    help="draw the streams with this share of a regime's articles labelled with its stance, the rest "
                         "spread evenly (default: the regimes' label mix measured on the corpus)")
    ap.add_argument("--seed", type=int, default=1)
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    from flows.settings import load_settings

    settings = load_settings()
    cfg = settings.detector_config()
    overrides = {k: v for k, v in (("method", args.method), ("false_alarms_per_year", args.false_alarms_per_year),
                                   ("regime_purity", args.purity)) if v is not None}
    cfg = replace(cfg, **overrides)
    purity = args.stream_purity or cfg.regime_purity
    profile = load_profile(settings.model_artifact)
    stream_profile = replace(profile, regime_labels=None) if args.stream_purity else profile
    runs = 30 if args.quick else 120
    print(f"# shift_synthetic ({machine()})")
    print(f"method {cfg.method}, false_alarms_per_year {cfg.false_alarms_per_year}; streams' regime mix: "
          f"{'purity %s' % purity if args.stream_purity else 'measured'}; error profile: {profile.source}")
    print("| articles/target/day | target-years | false alarms | per target-year | full flips found | "
          "flip delay days (median / p90) | flip delay articles (median / p90) | neutral moves found | "
          "neutral delay days (median / p90) |")
    print("|---|---|---|---|---|---|---|---|---|")
    figures = {}
    for rate in RATES:
        years = {0.1: 300.0, 1.0: 60.0, 5.0: 24.0, 20.0: 12.0}[rate] * (0.25 if args.quick else 1.0)
        alarms, covered = stable_false_alarms(profile, stream_profile, cfg, rate, years, purity, args.seed)
        flips = step_delays(profile, stream_profile, cfg, rate, FLIPS, runs, purity, args.seed)
        neutral = step_delays(profile, stream_profile, cfg, rate, NEUTRAL_MOVES, runs, purity, args.seed + 7)
        fd = [d for ok, d, _ in flips if ok]
        fa = [n for ok, _, n in flips if ok]
        nd = [d for ok, d, _ in neutral if ok]
        print(f"| {rate:g} | {covered:.0f} | {alarms} | {alarms / covered:.3f} | {len(fd)}/{len(flips)} | "
              f"{pct(fd, 0.5)} / {pct(fd, 0.9)} | {pct(fa, 0.5)} / {pct(fa, 0.9)} | {len(nd)}/{len(neutral)} | "
              f"{pct(nd, 0.5)} / {pct(nd, 0.9)} |")
        key = f"r{rate:g}"
        figures[f"{key}_fa_per_year"] = round(alarms / covered, 4)
        figures[f"{key}_flip_found"] = round(len(fd) / len(flips), 3)
        figures[f"{key}_flip_p90_days"] = pct(fd, 0.9)
        figures[f"{key}_flip_within_3_days"] = round(sum(d <= 3 for d in fd) / len(flips), 3)
    print()
    print("shift_synthetic: " + " ".join(f"{k}={v}" for k, v in figures.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
