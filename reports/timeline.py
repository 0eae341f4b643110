"""The timeline charts: one inline SVG per target on a shared time axis, with articles, weekly means, the seed
reference and shift markers."""
from __future__ import annotations

import html
import io
import math
import re
from datetime import date, datetime, time, timedelta

from classifiers.actors import ACTOR_NAMES
from classifiers.shifts import stance_of

MIN_AXIS_DAYS = 60  # a shorter span gets day or hour ticks that say nothing
COLOURS = {"cooperative": "#2b8a3e", "neutral": "#868e96", "confrontational": "#c92a2a"}
SHIFT_COLOUR = "#e67700"


def _dt(d: date | datetime) -> datetime:
    return d if isinstance(d, datetime) else datetime.combine(d, time())


def shared_axis(all_dates: list[date], report_date: date) -> tuple[datetime, datetime]:
    """One time range for every target's chart: all articles and shifts, padded, at least MIN_AXIS_DAYS wide."""
    if not all_dates:
        return _dt(report_date - timedelta(days=MIN_AXIS_DAYS)), _dt(report_date + timedelta(days=1))
    lo, hi = _dt(min(all_dates)), _dt(max(all_dates))
    span = hi - lo
    if span < timedelta(days=MIN_AXIS_DAYS):
        grow = (timedelta(days=MIN_AXIS_DAYS) - span) / 2
        lo, hi = lo - grow, hi + grow
        span = hi - lo
    pad = max(timedelta(days=2), span * 0.03)
    return lo - pad, hi + pad


def timeline_svg(actor: str, obs, reference: float | None, shifts, x_range: tuple[datetime, datetime]) -> str:
    """One target's chart as inline SVG. Every chart has the same size, margins and x range, so the charts line
    up; shift markers and the reference line carry ids (k-shift-ACTOR-DATE, k-reference-ACTOR) a test can find."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": f"kstance-{actor}", "font.size": 9}):
        fig, ax = plt.subplots(figsize=(10, 2.9), dpi=100)
        fig.subplots_adjust(left=0.135, right=0.985, top=0.84, bottom=0.13)  # fixed: equal plot areas
        try:
            if obs:
                _draw_articles(ax, actor, obs)
            if reference is not None:
                ax.axhline(reference, color="#495057", ls="--", lw=1, label="seed reference",
                           gid=f"k-reference-{actor}", zorder=2)
            _draw_shifts(ax, actor, shifts, x_range)
            if not obs:
                _draw_empty_note(ax, actor, reference)
            _draw_axes(ax, x_range)
            buf = io.StringIO()
            fig.savefig(buf, format="svg", metadata={"Date": None})
        finally:
            plt.close(fig)
    label = html.escape(f"timeline of Seoul's stance toward {ACTOR_NAMES.get(actor, actor)}", quote=True)
    svg = _own_ids(buf.getvalue(), actor)  # its accessible name, in double quotes and escaped: the apostrophe stays in
    return svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)


def _draw_articles(ax, actor: str, obs) -> None:
    """Each article as a dot (its stance's colour, sized by confidence), and the weekly means with their band."""
    xs = [_dt(o.published) for o in obs]
    ax.scatter(xs, [o.score for o in obs], s=[12 + 40 * o.confidence for o in obs],
               c=[COLOURS[stance_of(o.score)] for o in obs], alpha=0.75, edgecolors="none",
               label="articles", gid=f"k-articles-{actor}", zorder=3)
    for k, run in enumerate(weekly_means(obs)):
        mx, my, lo, hi = (list(col) for col in zip(*run))
        ax.plot(mx, my, color="#1c7ed6", lw=1.8, marker="." if len(run) == 1 else None,
                label="weekly mean" if k == 0 else None, gid=f"k-weekly-{actor}-{k}", zorder=4)
        ax.fill_between(mx, lo, hi, color="#1c7ed6", alpha=0.15, lw=0)


def _draw_shifts(ax, actor: str, shifts, x_range: tuple[datetime, datetime]) -> None:
    for i, sh in enumerate(shifts):
        x = _dt(sh.detected_at)
        if sh.first_date < sh.detected_at:  # the articles that moved it, from the first to the confirming one
            ax.axvspan(_dt(sh.first_date), x, color=SHIFT_COLOUR, alpha=0.12, lw=0, zorder=1)
        ax.axvline(x, color=SHIFT_COLOUR, lw=1.2, zorder=2, label="shift" if i == 0 else None)
        ax.plot([x], [1.1], marker="v", markersize=9, color=SHIFT_COLOUR, clip_on=False, zorder=5,
                gid=f"k-shift-{actor}-{sh.detected_at.isoformat()}")
        right_half = (x - x_range[0]) > (x_range[1] - x_range[0]) * 0.6  # the label stays inside the plot
        ax.annotate(f"{sh.from_stance} \u2192 {sh.to_stance}", (x, 0.95), fontsize=8, color=SHIFT_COLOUR,
                    ha="right" if right_half else "left", va="top", xytext=(-4 if right_half else 4, 0),
                    textcoords="offset points")


def _draw_empty_note(ax, actor: str, reference: float | None) -> None:
    # placed away from the reference line, on an opaque box, so nothing crosses the words
    ref_y = 0.5 if reference is None else (reference + 1.1) / 2.2
    y = 0.5 if abs(ref_y - 0.5) > 0.2 else (0.8 if ref_y <= 0.5 else 0.2)
    ax.text(0.5, y, "no judged articles yet", transform=ax.transAxes, ha="center", va="center",
            color="#868e96", zorder=6, gid=f"k-empty-{actor}",
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 3})


def _draw_axes(ax, x_range: tuple[datetime, datetime]) -> None:
    import matplotlib.dates as mdates

    ax.set_xlim(*x_range)
    ax.set_ylim(-1.1, 1.1)
    ax.set_yticks([-1, 0, 1], ["confrontational", "neutral", "cooperative"])
    ax.grid(axis="y", alpha=0.3)
    locator = mdates.AutoDateLocator(minticks=4, maxticks=9)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False, ncol=5,
                  borderaxespad=0.2)


def _own_ids(svg: str, actor: str) -> str:
    """The SVG without its XML prologue, its matplotlib ids made unique to this chart (five charts share one page)."""
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg[svg.index("<svg"):], flags=re.S)
    svg = re.sub(r'\bid="(?!k-)([^"]+)"', rf'id="{actor}-\1"', svg)
    svg = re.sub(r"url\(#(?!k-)([^)]+)\)", rf"url(#{actor}-\1)", svg)
    return re.sub(r'xlink:href="#(?!k-)([^"]+)"', rf'xlink:href="#{actor}-\1"', svg)


def _rolling(obs):
    """Mean score per ISO week of article time (keyed by its Monday), with a band of +-1 standard error."""
    weeks: dict[date, list[float]] = {}
    for o in obs:
        iso = o.published.isocalendar()
        weeks.setdefault(date.fromisocalendar(iso[0], iso[1], 1), []).append(o.score)
    out = []
    for wk in sorted(weeks):
        v = weeks[wk]
        m = sum(v) / len(v)
        se = (math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1)) / math.sqrt(len(v))) if len(v) > 1 else 0.0
        out.append((wk, m, max(-1, m - se), min(1, m + se)))
    return out


def weekly_means(obs) -> list[list[tuple[datetime, float, float, float]]]:
    """The weekly means as drawn: each at the middle of its week (Thursday noon), in runs of consecutive weeks."""
    return [
        [(_dt(w) + timedelta(days=3, hours=12), m, lo, hi) for w, m, lo, hi in run]
        for run in weekly_runs(_rolling(obs))
    ]


def weekly_runs(weeks, max_gap_days: int = 7):
    """Weekly means joined only from one week to the next: a week without articles breaks the line, since a
    line across it would draw a trend nobody measured."""
    runs: list[list] = []
    for w in weeks:
        if runs and (w[0] - runs[-1][-1][0]).days <= max_gap_days:
            runs[-1].append(w)
        else:
            runs.append([w])
    return runs
