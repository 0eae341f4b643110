"""The report as an analyst reads it: a self-contained static page (charts inline as SVG, no network needed to
view it), rendered from reports/templates/ with Jinja2 (autoescaped: headlines and evidence cannot inject markup).

A summary line per target (current stance as colour and word, last shift and its date), timelines for all
targets on one shared time axis with shift markers and the seed reference, the alerts with their evidence, feed
health and the recent runs with their outcome. Windows ("articles (30 days)") end on the report date."""
from __future__ import annotations

import html
import io
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from classifiers.actors import ACTOR_NAMES, ACTORS
from classifiers.shifts import stance_of
from extractors.urls import safe_link
from store import repository as repo

WINDOW_DAYS = 30
MIN_AXIS_DAYS = 60  # a shorter span gets day or hour ticks that say nothing
TEMPLATES = Path(__file__).parent / "templates"
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
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": f"kstance-{actor}", "font.size": 9}):
        fig, ax = plt.subplots(figsize=(10, 2.9), dpi=100)
        fig.subplots_adjust(left=0.135, right=0.985, top=0.84, bottom=0.13)  # fixed: equal plot areas
        try:
            if obs:
                xs = [_dt(o.published) for o in obs]
                ax.scatter(xs, [o.score for o in obs], s=[12 + 40 * o.confidence for o in obs],
                           c=[COLOURS[stance_of(o.score)] for o in obs], alpha=0.75, edgecolors="none",
                           label="articles", gid=f"k-articles-{actor}", zorder=3)
                for k, run in enumerate(weekly_means(obs)):
                    mx, my, lo, hi = (list(col) for col in zip(*run))
                    ax.plot(mx, my, color="#1c7ed6", lw=1.8, marker="." if len(run) == 1 else None,
                            label="weekly mean" if k == 0 else None, gid=f"k-weekly-{actor}-{k}", zorder=4)
                    ax.fill_between(mx, lo, hi, color="#1c7ed6", alpha=0.15, lw=0)
            if reference is not None:
                ax.axhline(reference, color="#495057", ls="--", lw=1, label="seed reference",
                           gid=f"k-reference-{actor}", zorder=2)
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
            if not obs:
                # placed away from the reference line, on an opaque box, so nothing crosses the words
                ref_y = 0.5 if reference is None else (reference + 1.1) / 2.2
                y = 0.5 if abs(ref_y - 0.5) > 0.2 else (0.8 if ref_y <= 0.5 else 0.2)
                ax.text(0.5, y, "no judged articles yet", transform=ax.transAxes, ha="center", va="center",
                        color="#868e96", zorder=6, gid=f"k-empty-{actor}",
                        bbox={"facecolor": "white", "edgecolor": "none", "pad": 3})
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
            buf = io.StringIO()
            fig.savefig(buf, format="svg", metadata={"Date": None})
        finally:
            plt.close(fig)
    label = html.escape(f"timeline of Seoul's stance toward {ACTOR_NAMES.get(actor, actor)}", quote=True)
    svg = _own_ids(buf.getvalue(), actor)  # its accessible name, in double quotes and escaped: the apostrophe stays in
    return svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)


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
    return [[(_dt(w) + timedelta(days=3, hours=12), m, lo, hi) for w, m, lo, hi in run] for run in _runs(_rolling(obs))]


def _runs(weeks, max_gap_days: int = 7):
    """Weekly means joined only from one week to the next: a week without articles breaks the line, since a
    line across it would draw a trend nobody measured."""
    runs: list[list] = []
    for w in weeks:
        if runs and (w[0] - runs[-1][-1][0]).days <= max_gap_days:
            runs[-1].append(w)
        else:
            runs.append([w])
    return runs


def utc(t: datetime | None) -> str:
    """A stored time (naive UTC) as people read it: to the minute, with its zone."""
    if t is None:
        return "-"
    if t.tzinfo is not None:
        t = t.astimezone(timezone.utc)
    return f"{t:%Y-%m-%d %H:%M} UTC"


def _took(r) -> str:
    if not r.finished:
        return "-"
    s = max(0, int((r.finished - r.started).total_seconds()))
    return f"{s // 60} min {s % 60} s" if s >= 60 else f"{s} s"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def run_outcome(r) -> tuple[str, str]:
    """(outcome, counts) of a recorded run, in words."""
    if not r.finished:
        return "did not finish (stopped, or still running)", "-"
    s = r.summary or {}
    feeds = s.get("feeds") or []
    failed_feeds = sum(1 for f in feeds if f.get("status") == "error")
    failures = len(s.get("delivery_failures") or [])
    if feeds and failed_feeds == len(feeds):
        outcome = "every feed failed"
    else:
        bits = [f"{failed_feeds} of {len(feeds)} feeds failed"] if failed_feeds else []
        bits += [f"{_plural(failures, 'delivery')} failed".replace("deliverys", "deliveries")] if failures else []
        bits += [f"{_plural(s['problem_count'], 'problem')} in the archives"] if s.get("problem_count") else []
        outcome = "ok" + (f" ({'; '.join(bits)})" if bits else "")
    counts = []
    if "read" in s and s.get("kind") == "backfill":
        counts.append(f"read {s['read']}")
    if "judged" in s:
        counts.append(f"judged {s['judged']} ({_plural(s.get('judgments', 0), 'judgment')})")
    if s.get("duplicates"):
        counts.append(f"{s['duplicates']} duplicates")
    if "shifts" in s:
        counts.append(_plural(s["shifts"], "shift"))
    if "new_alerts" in s:
        counts.append(_plural(len(s["new_alerts"]), "new alert"))
    if "delivered" in s:
        counts.append(f"delivered {s['delivered']}")
    return outcome, ", ".join(counts) or "-"


@dataclass
class _Obs:
    published: date
    stance: str
    score: float
    outlet: str
    title: str
    link: str


def write_report(store: repo.Store, out_dir: Path, reference: dict, now: datetime | None = None) -> Path:
    from jinja2 import Environment, FileSystemLoader
    from markupsafe import Markup

    from alerts.render import repeats_headline

    now = now or datetime.now(timezone.utc)
    report_date = now.date()
    window_from = report_date - timedelta(days=WINDOW_DAYS - 1)
    out_dir.mkdir(parents=True, exist_ok=True)
    alerts = repo.alerts(store)
    shifts_by_actor: dict[str, list] = {a: [] for a in ACTORS}
    for a, _ in alerts:
        shifts_by_actor.setdefault(a.actor, []).append(repo.shift_from_row(a))
    series = {actor: repo.series(store, actor) for actor in ACTORS}
    all_dates = [o.published for obs in series.values() for o in obs]
    all_dates += [sh.detected_at for shs in shifts_by_actor.values() for sh in shs]
    x_range = shared_axis(all_dates, report_date)
    links = repo.article_links(store, [o.url for obs in series.values() for o in obs]
                               + [e["url"] for a, _ in alerts for e in a.evidence])

    targets = []
    for actor in ACTORS:
        obs = series[actor]
        window = [o for o in obs if window_from <= o.published <= report_date]
        last = max((o.published for o in obs), default=None)
        # the current stance: the mean of the window (with no article in it, of the 30 days up to the last one),
        # counted from the last shift when it falls inside: the old regime must not blur the new one
        basis = window or [o for o in obs if last and o.published > last - timedelta(days=WINDOW_DAYS)]
        shifts = shifts_by_actor.get(actor, [])
        last_shift = max(shifts, key=lambda sh: sh.detected_at, default=None)
        if last_shift and any(o.published >= last_shift.first_date for o in basis):
            basis = [o for o in basis if o.published >= last_shift.first_date]
        score = sum(o.score for o in basis) / len(basis) if basis else None
        ref = reference.get(actor) or None
        latest = sorted(obs, key=lambda o: (o.published, o.url), reverse=True)[:8]
        targets.append({
            "actor": actor, "name": ACTOR_NAMES[actor], "n": len(obs), "window_n": len(window),
            "score": score, "current": stance_of(score) if score is not None else None,
            "last_article": last, "stale": bool(obs) and not window,
            "last_shift": last_shift, "shifts": shifts,
            "reference": {"stance": ref.get("stance", stance_of(ref.get("score", 0.0))), "score": ref.get("score", 0.0)} if ref else None,
            "svg": Markup(timeline_svg(actor, obs, ref.get("score") if ref else None, shifts, x_range)),
            "latest": [_Obs(o.published, stance_of(o.score), o.score, (links.get(o.url).outlet if o.url in links else o.source),
                            o.title, safe_link(repo.link_of(links, o.url))) for o in latest],
        })

    alert_views = []
    for a, dels in reversed(alerts[-20:]):
        evidence = []
        for e in a.evidence:
            info = links.get(e["url"])
            evidence.append({"quote": None if repeats_headline(e["sentence"], e["title"]) else e["sentence"],
                             "title": e["title"], "outlet": info.outlet if info else "", "published": e["published"],
                             "link": safe_link(info.link if info else e["url"])})
        alert_views.append({
            "id": a.id, "name": ACTOR_NAMES[a.actor], "from_stance": a.from_stance, "to_stance": a.to_stance,
            "detected_at": a.detected_at, "magnitude": a.magnitude, "confidence": a.confidence,
            "historical": a.historical, "muted": getattr(a, "muted", False),
            "acked": utc(a.acked_at) if getattr(a, "acked_at", None) else None, "evidence": evidence,
            "deliveries": [{"channel": d.channel, "state": d.state, "error": d.last_error,
                            "next_try": utc(d.next_try) if d.next_try and d.state in ("pending", "failed") else None}
                           for d in dels],
        })
    feeds = [{"name": f.name or f.url, "last_success": utc(f.last_success), "failures": f.consecutive_failures,
              "state": f"disabled: {f.disabled_reason}" if f.disabled else (f"failing: {f.last_error}" if f.last_error else "ok")}
             for f in repo.all_feeds(store)]
    runs = []
    for r in repo.last_runs(store, 10):
        outcome, counts = run_outcome(r)
        runs.append({"kind": r.kind, "started": utc(r.started), "took": _took(r), "outcome": outcome, "counts": counts})

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True, lstrip_blocks=True)
    page = env.get_template("report.html.j2").render(
        written=utc(now), report_date=report_date, window_days=WINDOW_DAYS,
        judged=bool(repo.counts(store).get("judgments")),
        targets=targets, alerts=alert_views, feeds=feeds, runs=runs,
        axis_from=x_range[0].date(), axis_to=x_range[1].date())
    path = out_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
