"""A self-contained static page (PNG pictures embedded as data URIs; no network needed to view it)."""
from __future__ import annotations

import base64
import html
import io
from datetime import date
from pathlib import Path

from classifiers.actors import ACTOR_NAMES, ACTORS
from extractors.urls import safe_link
from store import repository as repo

esc = html.escape


def timeline_png(obs, reference: float | None, shifts, title: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 2.8), dpi=100)
    try:
        if obs:
            xs = [o.published for o in obs]
            ys = [o.score for o in obs]
            sizes = [12 + 40 * o.confidence for o in obs]
            colors = ["#2b8a3e" if o.score > 1 / 3 else "#c92a2a" if o.score < -1 / 3 else "#868e96" for o in obs]
            ax.scatter(xs, ys, s=sizes, c=colors, alpha=0.75, edgecolors="none", label="articles")
            for k, run in enumerate(_runs(_rolling(obs))):
                mx, my, lo, hi = zip(*run)
                ax.plot(mx, my, color="#1c7ed6", lw=1.8, marker="." if len(run) == 1 else None,
                        label="weekly mean" if k == 0 else None)
                ax.fill_between(mx, lo, hi, color="#1c7ed6", alpha=0.15, lw=0)
        if reference is not None:
            ax.axhline(reference, color="#495057", ls="--", lw=1, label="seed reference")
        for sh in shifts:
            if sh.first_date < sh.detected_at:  # the articles that moved it, from the first to the confirming one
                ax.axvspan(sh.first_date, sh.detected_at, color="#e67700", alpha=0.12, lw=0)
            ax.axvline(sh.detected_at, color="#e67700", lw=1.2)
            ax.annotate(f"{sh.from_stance} -> {sh.to_stance}", (sh.detected_at, 0.92), fontsize=8, color="#e67700",
                        rotation=0, ha="left", va="top", xytext=(3, 0), textcoords="offset points")
        ax.set_ylim(-1.1, 1.1)
        ax.set_yticks([-1, 0, 1], ["confrontational", "neutral", "cooperative"], fontsize=8)
        ax.set_title(title, fontsize=10, loc="left")
        ax.grid(axis="y", alpha=0.3)
        if obs:
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(mdates.AutoDateLocator()))
        else:
            ax.text(0.5, 0.5, "no judged articles yet", transform=ax.transAxes, ha="center", color="#868e96")
            ax.set_xticks([])
        ax.legend(loc="lower left", fontsize=7, frameon=False, ncol=4)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()
    finally:
        plt.close(fig)


def _rolling(obs, days: int = 7):
    """Mean score per week of article time, with a band of +-1 standard error."""
    import math

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


def _runs(weeks, max_gap_days: int = 21):
    """Consecutive weekly means, split where coverage stops for more than three weeks: a line across a
    gap of months would invent a trend nobody measured."""
    runs: list[list] = []
    for w in weeks:
        if runs and (w[0] - runs[-1][-1][0]).days <= max_gap_days:
            runs[-1].append(w)
        else:
            runs.append([w])
    return runs


def _caption(obs, n: int = 8) -> str:
    """The latest articles behind the dots: date, stance and title, linked."""
    if not obs:
        return ""
    rows = "".join(
        f"<li>{esc(str(o.published))} &middot; {esc(o.stance)} ({o.score:+.2f}) &middot; "
        f"<a href='{esc(safe_link(o.url))}'>{esc(o.title or o.url)}</a></li>"
        for o in sorted(obs, key=lambda o: (o.published, o.url), reverse=True)[:n])
    return f"<details><summary>latest {min(n, len(obs))} of {len(obs)} articles</summary><ul class=caption>{rows}</ul></details>"


def write_report(store: repo.Store, out_dir: Path, reference: dict) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    alerts = repo.alerts(store)
    shifts_by_actor: dict[str, list] = {a: [] for a in ACTORS}
    for a, _ in alerts:
        shifts_by_actor[a.actor].append(repo.shift_from_row(a))
    table = {r["actor"]: r for r in repo.stance_table(store)}
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>kstance report</title>",
        "<style>body{font:14px/1.45 system-ui,sans-serif;max-width:980px;margin:24px auto;padding:0 12px;color:#212529}"
        "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #dee2e6;padding:4px 6px;text-align:left;"
        "vertical-align:top}img{max-width:100%}blockquote{margin:4px 0 4px 12px;color:#495057}"
        "section{page-break-inside:avoid;margin-bottom:18px}.muted{color:#868e96}.caption{font-size:12px}"
        "@media print{details{display:block}details>ul{display:block}}</style></head><body>",
        f"<h1>kstance: Seoul's stance toward its neighbours</h1><p class=muted>Report written {esc(date.today().isoformat())}.</p>",
    ]
    counts = repo.counts(store)
    if not counts.get("judgments"):
        parts.append("<p id=empty><strong>Nothing judged yet.</strong> Run <code>kstance run</code> or "
                     "<code>kstance backfill</code> to fill the store.</p>")
    parts.append("<h2>Current stance against the seed profile</h2><table><tr><th>actor</th><th>seed reference</th>"
                 "<th>recent mean score</th><th>articles (30 days)</th><th>strongest evidence</th></tr>")
    for actor in ACTORS:
        r, ref = table.get(actor, {"n": 0}), reference.get(actor, {})
        ref_s = f"{ref.get('stance', '-')} ({ref.get('score', 0):+.2f})" if ref else "-"
        if r.get("n"):
            parts.append(f"<tr><td>{esc(ACTOR_NAMES[actor])}</td><td>{esc(ref_s)}</td><td>{r['score']:+.2f}</td>"
                         f"<td>{r['n']}</td><td>{esc(r['evidence'])}</td></tr>")
        else:
            parts.append(f"<tr><td>{esc(ACTOR_NAMES[actor])}</td><td>{esc(ref_s)}</td><td>-</td><td>0</td><td></td></tr>")
    parts.append("</table>")
    parts.append("<h2>Timelines</h2>")
    for actor in ACTORS:
        obs = repo.series(store, actor)
        ref = reference.get(actor, {}).get("score")
        png = timeline_png(obs, ref, shifts_by_actor[actor], f"Seoul toward {ACTOR_NAMES[actor]}")
        data = base64.b64encode(png).decode()
        alt = f"timeline of Seoul's stance toward {ACTOR_NAMES[actor]}"  # escaped, in double quotes: the apostrophe stays in
        parts.append(f"<section class=actor id=actor-{actor}><h3>{esc(ACTOR_NAMES[actor])}</h3>"
                     f"<img alt=\"{esc(alt)}\" src=\"data:image/png;base64,{data}\">"
                     f"<p class=muted>{len(obs)} judged articles; dots are articles (size: confidence), the band is "
                     f"one standard error around the weekly mean, orange lines are detected shifts (the shaded span runs from the first article that moved it to the one that confirmed it).</p>{_caption(obs)}</section>")
    parts.append("<h2>Alerts</h2>")
    if not alerts:
        parts.append("<p class=muted>No shift detected.</p>")
    for a, dels in reversed(alerts[-20:]):
        ev = "".join(f"<blockquote>{esc(e['sentence'])}<br><a href='{esc(safe_link(e['url']))}'>"
                     f"{esc(e['title'] or e['url'])}</a> ({esc(e['published'])})</blockquote>" for e in a.evidence)
        state = ", ".join(f"{d.channel}: {d.state}" for d in dels) or "no channel"
        parts.append(f"<section class=alert><h3>{esc(ACTOR_NAMES[a.actor])}: {esc(a.from_stance)} &rarr; {esc(a.to_stance)}"
                     f"</h3><p>Detected {esc(str(a.detected_at))}; magnitude {a.magnitude:.2f}; confidence {a.confidence:.2f}"
                     f"{' (historical)' if a.historical else ''}; deliveries: {esc(state)}</p>{ev}</section>")
    parts.append("<h2>Feed health</h2><table><tr><th>feed</th><th>last success</th><th>failures</th><th>state</th></tr>")
    for f in repo.all_feeds(store):
        st = f"disabled: {f.disabled_reason}" if f.disabled else (f"failing: {f.last_error}" if f.last_error else "ok")
        parts.append(f"<tr><td>{esc(f.name or f.url)}</td><td>{esc(str(f.last_success or '-'))}</td>"
                     f"<td>{f.consecutive_failures}</td><td>{esc(st)}</td></tr>")
    parts.append("</table><h2>Runs</h2><ul>")
    for r in repo.last_runs(store):
        parts.append(f"<li>{esc(r.kind)} started {esc(str(r.started)[:19])}, "
                     f"{'finished ' + esc(str(r.finished)[:19]) if r.finished else 'did not finish'}</li>")
    parts.append("</ul></body></html>")
    path = out_dir / "index.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
