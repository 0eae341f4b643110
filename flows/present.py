"""What the commands print: a cycle's outcome, the alert records and their delivery lines, the feed health table,
the stance table, a backfill's and a calibration's summary. Untrusted text goes through flows.console."""
from __future__ import annotations

from flows.console import clip, inert, jsonl


def print_cycle(c, result: dict) -> None:
    """One monitoring cycle's outcome: a line per feed, the totals, skipped reasons and delivery problems."""
    for f in result["feeds"]:
        if f["status"] == "error":
            c.print(f"feed {f['feed']}: error: {f['error']}", style="red")
        elif f["status"] in ("disabled", "backing off"):
            c.print(f"feed {f['feed']}: {f['status']}: {f['error']}", style="yellow")
        else:
            c.print(f"feed {f['feed']}: {f['status']}, {f.get('new', 0)} new, {f.get('seen', 0)} already seen")
    c.print(f"judged {result['judged']} articles ({result['judgments']} judgments); duplicates {result['duplicates']}; "
            f"shifts {result['shifts']}; new alerts {len(result['new_alerts'])}; delivered {result['delivered']}")
    for reason, n in result["skipped"].items():
        c.print(f"  skipped {n}: {reason}")
    for line in result["delivery_failures"]:
        c.print(f"  delivery failed: {line}", style="red")
    for line in result.get("delivery_unknown", []):
        c.print(f"  delivery outcome unknown (not resent): {line}; check the channel, then "
                "`kstance alerts --retry ID` or `--drop ID`", style="yellow")


def print_backfill(c, result: dict) -> None:
    c.print(f"read {result['read']}, duplicates {result['duplicates']}, judged {result['judged']} "
            f"({result['judgments']} judgments), shifts {result['shifts']}, new alerts {len(result['new_alerts'])}")
    for reason, n in result["skipped"].items():
        c.print(f"  skipped {n}: {reason}")
    for p in result["problems"][:20]:
        c.print(f"  problem: {p}")
    if result["problem_count"] > 20:
        c.print(f"  ... and {result['problem_count'] - 20} more problems")


def print_calibration(c, target, meta: dict) -> None:
    arts, dev = meta["metrics"]["articles"], meta["metrics"]["dev"]
    c.print(f"wrote {target} (temperature {meta['temperature']})")
    for lang, m in (arts or {}).items():
        c.print(f"articles, {lang}, {meta['train']['folds']}-fold CV by month: macro-F1 coop/conf "
                f"{m['macro_f1_coop_vs_conf']:.3f}, 3-stance accuracy {m['accuracy_3']:.3f}, none unjudged "
                f"{m['none_unjudged']:.3f}, stance unjudged {m['stance_unjudged']:.3f}")
    if dev:
        c.print(f"dev sentences: macro-F1 coop/conf {dev['macro_f1_coop_vs_conf']:.3f}, "
                f"3 stances {dev['macro_f1_3']:.3f}, 4 labels {dev['macro_f1_4']:.3f}, Brier {dev['brier']:.3f}")


def print_verdicts(c, paths, verdicts, format: str) -> None:
    """`kstance classify`: per input, its judgments (text) or one JSON line per judgment (jsonl)."""
    for p, v in zip(paths, verdicts):
        if format == "jsonl":
            for j in v.judgments:
                print(jsonl({"input": str(p), **j.as_dict()}))
            continue
        c.print(f"{p}" + (f"  ({v.reason})" if not v.judgments else ""), style="bold")
        for j in v.judgments:
            c.print(f"  {j.actor}  {j.stance:<15} score {j.score:+.2f}  confidence {j.confidence:.2f}")
            for e in j.evidence[:2]:
                c.print(f"      \u201c{clip(e, 150)}\u201d")


# -- alerts ---------------------------------------------------------------------------------------

def alert_record(a, dels, links=None) -> dict:
    """`articles` are the links as the sources served them (the canonical dedup keys may not open);
    `article_keys` are those keys, in the same order."""
    from store.repository import link_of

    return {"id": a.id, "actor": a.actor, "from": a.from_stance, "to": a.to_stance,
            "detected_at": a.detected_at.isoformat(), "magnitude": a.magnitude, "confidence": a.confidence,
            "articles": [link_of(links or {}, u) for u in a.articles], "evidence": [e["sentence"] for e in a.evidence],
            "historical": bool(a.historical), "deliveries": {d.channel: d.state for d in dels},
            "article_keys": list(a.articles),
            "muted": bool(getattr(a, "muted", False)),
            "acknowledged": utc(a.acked_at) if getattr(a, "acked_at", None) else None,
            # how the detector found it; null for alerts recorded before it was kept
            "detector": ({"method": a.method, "statistic": a.statistic, "threshold": a.threshold,
                          "rate_per_day": a.rate_per_day} if getattr(a, "method", None) else None),
            "channels": {d.channel: {"state": d.state, "attempts": d.attempts or 0, "error": d.last_error,
                                     "next_try": utc(d.next_try) if d.next_try and d.state in ("pending", "failed")
                                     else None,
                                     "sent_at": utc(d.sent_at) if d.sent_at else None} for d in dels}}


def utc(t) -> str:
    """A stored (naive, UTC) time as people read it: to the minute, with its zone."""
    return f"{t:%Y-%m-%d %H:%M} UTC"


def delivery_lines(rec: dict) -> list[str]:
    """Per channel that needs a look: the error and when it is tried next."""
    out = []
    if rec["muted"]:
        out.append("muted: recorded while its target was muted, not sent")
    if rec["acknowledged"]:
        out.append(f"acknowledged {rec['acknowledged']}")
    for key, d in rec["channels"].items():
        if d["state"] in ("failed", "unknown") or (d["state"] == "pending" and d["error"]):
            tries = f" after {d['attempts']} attempt{'s' if d['attempts'] != 1 else ''}" if d["attempts"] else ""
            nxt = f"; next try {d['next_try']}" if d["next_try"] else ""
            out.append(f"{key}: {d['state']}{tries}: {d['error'] or 'no error recorded'}{nxt}")
    return out


def print_alerts(c, store, format: str = "text") -> None:
    """The recorded alerts and their delivery state: text lines, or one JSON line per alert (the contract's shape)."""
    from store import repository as repo

    rows = repo.alerts(store)
    links = repo.article_links(store, [u for a, _ in rows for u in a.articles])
    for a, dels in rows:
        rec = alert_record(a, dels, links)
        if format == "jsonl":
            print(jsonl(rec))
            continue
        c.print(f"{rec['id'][:8]}  {rec['detected_at']}  {rec['actor']}  {rec['from']} -> {rec['to']}  "
                f"magnitude {rec['magnitude']:.2f}  confidence {rec['confidence']:.2f}"
                f"{'  (historical)' if rec['historical'] else ''}  "
                + (", ".join(f"{k}: {v}" for k, v in rec["deliveries"].items()) or "no channel"))
        for e in rec["evidence"][:2]:
            c.print(f"    \u201c{clip(e, 150)}\u201d")
        if d := rec["detector"]:
            c.print(f"    found by {d['method']}: statistic {d['statistic']:.2f}, threshold {d['threshold']:.2f}"
                    + (f", {d['rate_per_day']:.2g} articles a day" if d["rate_per_day"] else ""), markup=False)
        for line in delivery_lines(rec):
            c.print(f"    {line}", markup=False)
    if not rows and format == "text":
        c.print("no alerts recorded")


# -- feeds and stances ----------------------------------------------------------------------------

def print_feed_table(c, rows: list[dict]) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, pad_edge=False, show_edge=False)
    for col in ("name", "url", "state", "last success", "failures", "next try", "articles"):
        table.add_column(col, justify="right" if col in ("failures", "articles") else "left", overflow="fold")
    for r in rows:
        # cells are untrusted text too (names and URLs from the feed list): inert, never markup
        table.add_row(*(Text(inert(str(v), keep_newlines=False)) for v in (
            r["name"], r["url"], r["state"], r["last_success"] or "-", r["consecutive_failures"], r["next_try"],
            r["articles"])))
    c.print(table)
    for r in rows:
        if r["problem"]:
            c.print(f"  {r['name']}: {r['problem']}")


def print_stance_table(c, store) -> None:
    """Seoul's stance per stored article and actor, oldest first, with the first evidence sentence."""
    from rich.table import Table

    from store import repository as repo

    table = Table(title="Seoul's stance per article and actor", show_lines=False)
    for col in ("published", "actor", "stance", "score", "conf.", "evidence"):
        table.add_column(col, overflow="fold")
    for j in repo.judgments(store):
        ev = inert((j["evidence"] or ("",))[0], keep_newlines=False)
        table.add_row(str(j["published"]), j["actor"], j["stance"], f"{j['score']:+.2f}", f"{j['confidence']:.2f}",
                      ev if len(ev) <= 110 else ev[:109] + "\u2026")
    c.print(table)
