"""The report as an analyst reads it: a self-contained static page (charts inline as SVG, no network needed to
view it), rendered from reports/templates/ with Jinja2 (autoescaped: headlines and evidence cannot inject markup).

A summary line per target (current stance as colour and word, last shift and its date), timelines for all
targets on one shared time axis with shift markers and the seed reference, the alerts with their evidence, feed
health and the recent runs with their outcome. Windows ("articles (30 days)") end on the report date."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from classifiers.actors import ACTOR_NAMES, ACTORS
from classifiers.shifts import stance_of
from extractors.urls import safe_link
from reports.timeline import shared_axis, timeline_svg
from store import repository as repo
from vocab.states import DeliveryState

WINDOW_DAYS = 30
TEMPLATES = Path(__file__).parent / "templates"


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

    now = now or datetime.now(timezone.utc)
    report_date = now.date()
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
    targets = [_target_view(actor, series[actor], shifts_by_actor.get(actor, []), reference.get(actor) or None,
                            links, x_range, report_date) for actor in ACTORS]
    alert_views = [_alert_view(a, dels, links) for a, dels in reversed(alerts[-20:])]
    feeds = [_feed_view(f) for f in repo.all_feeds(store)]
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


def _target_view(actor: str, obs, shifts, ref: dict | None, links, x_range, report_date: date) -> dict:
    """One target's summary, chart and latest articles, as the template shows them."""
    from markupsafe import Markup

    window_from = report_date - timedelta(days=WINDOW_DAYS - 1)
    window = [o for o in obs if window_from <= o.published <= report_date]
    last = max((o.published for o in obs), default=None)
    # the current stance: the mean of the window (with no article in it, of the 30 days up to the last one),
    # counted from the last shift when it falls inside: the old regime must not blur the new one
    basis = window or [o for o in obs if last and o.published > last - timedelta(days=WINDOW_DAYS)]
    last_shift = max(shifts, key=lambda sh: sh.detected_at, default=None)
    if last_shift and any(o.published >= last_shift.first_date for o in basis):
        basis = [o for o in basis if o.published >= last_shift.first_date]
    score = sum(o.score for o in basis) / len(basis) if basis else None
    latest = sorted(obs, key=lambda o: (o.published, o.url), reverse=True)[:8]
    return {
        "actor": actor, "name": ACTOR_NAMES[actor], "n": len(obs), "window_n": len(window),
        "score": score, "current": stance_of(score) if score is not None else None,
        "last_article": last, "stale": bool(obs) and not window,
        "last_shift": last_shift, "shifts": shifts,
        "reference": ({"stance": ref.get("stance", stance_of(ref.get("score", 0.0))), "score": ref.get("score", 0.0)}
                      if ref else None),
        "svg": Markup(timeline_svg(actor, obs, ref.get("score") if ref else None, shifts, x_range)),
        "latest": [_Obs(o.published, stance_of(o.score), o.score,
                        (links.get(o.url).outlet if o.url in links else o.source),
                        o.title, safe_link(repo.link_of(links, o.url))) for o in latest],
    }


def _alert_view(a, dels, links) -> dict:
    """One recorded alert with its evidence (a quote that repeats its headline is not shown twice) and deliveries."""
    from alerts.render import repeats_headline

    evidence = []
    for e in a.evidence:
        info = links.get(e["url"])
        evidence.append({"quote": None if repeats_headline(e["sentence"], e["title"]) else e["sentence"],
                         "title": e["title"], "outlet": info.outlet if info else "", "published": e["published"],
                         "link": safe_link(info.link if info else e["url"])})
    waiting = (DeliveryState.PENDING, DeliveryState.FAILED)
    return {
        "id": a.id, "name": ACTOR_NAMES[a.actor], "from_stance": a.from_stance, "to_stance": a.to_stance,
        "detected_at": a.detected_at, "magnitude": a.magnitude, "confidence": a.confidence,
        "historical": a.historical, "muted": getattr(a, "muted", False),
        "acked": utc(a.acked_at) if getattr(a, "acked_at", None) else None, "evidence": evidence,
        "deliveries": [{"channel": d.channel, "state": d.state, "error": d.last_error,
                        "next_try": utc(d.next_try) if d.next_try and d.state in waiting else None}
                       for d in dels],
    }


def _feed_view(f) -> dict:
    state = f"disabled: {f.disabled_reason}" if f.disabled else (f"failing: {f.last_error}" if f.last_error else "ok")
    return {"name": f.name or f.url, "last_success": utc(f.last_success), "failures": f.consecutive_failures,
            "state": state}
