"""The daily digest (KSTANCE_DIGEST=daily), for desks that want one message a day: the judgments stored in the
last 24 hours per target, and any shift recorded in them. In that mode a new alert is not sent on its own (its
deliveries are marked `digest`); it goes out in the day's digest.

At most once per (day, channel), like alerts: the digest row is committed as `sending` before apprise is called,
and a run killed in between leaves it for a person to check rather than sending it twice."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

import apprise
from sqlalchemy import select

from alerts.deliver import Channel, notify
from alerts.render import plain_text, slack_href, slack_text, summary_line
from classifiers.actors import ACTOR_NAMES, ACTORS
from store.models import AlertRow, ArticleRow, DigestRow, JudgmentRow
from store.repository import Store, now, shift_from_row
from vocab.states import DeliveryState

MAX_ITEMS = 8  # per target: the most confident judgments of the day


def digest_content(store: Store, since: datetime, day: date, report_url: str | None = None,
                   clean=plain_text) -> tuple[str, str]:
    """(subject, plain-text body) of the digest of everything stored since `since`. `clean` makes untrusted text
    (outlets, titles) inert for the channel: plain_text, or slack_text for Slack (no mention or link tokens)."""
    with store.session() as s:
        rows = s.execute(select(JudgmentRow, ArticleRow).join(ArticleRow, ArticleRow.url == JudgmentRow.article_url)
                         .where(ArticleRow.first_seen >= since)).all()
        alerts = list(s.scalars(select(AlertRow).where(AlertRow.created_at >= since).order_by(AlertRow.detected_at)))
    by_actor: dict[str, list] = defaultdict(list)
    for j, a in rows:
        by_actor[j.actor].append((j, a))
    lines = [f"kstance daily digest for {day.isoformat()}: {len(rows)} judgment{'s' if len(rows) != 1 else ''} "
             f"stored since {since:%Y-%m-%d %H:%M} UTC."]
    if alerts:
        lines += ["", "Shifts:"]
        for a in alerts:
            lines.append(f"- {summary_line(shift_from_row(a))}{' (muted)' if a.muted else ''}")
    for actor in ACTORS:
        items = by_actor.get(actor)
        if not items:
            continue
        counts = defaultdict(int)
        for j, _ in items:
            counts[j.stance] += 1
        mean = sum(j.score for j, _ in items) / len(items)
        mix = ", ".join(f"{counts[k]} {k}" for k in ("cooperative", "neutral", "confrontational") if counts[k])
        lines += ["", f"{ACTOR_NAMES[actor][:1].upper()}{ACTOR_NAMES[actor][1:]}: {len(items)} article"
                      f"{'s' if len(items) != 1 else ''} ({mix}); mean score {mean:+.2f}"]
        for j, a in sorted(items, key=lambda r: -r[0].confidence)[:MAX_ITEMS]:
            link = a.served_url or a.original_url or a.url
            lines.append(f"- {a.published or 'no date'}  {j.stance} ({j.score:+.2f})  {clean(a.source or '-')}: "
                         f"{clean(a.title)}")
            lines.append(f"  {slack_href(link) if clean is slack_text else link}")  # no |, <, >, @, ! in Slack
    if not rows and not alerts:
        lines += ["", "Nothing new was judged."]
    if report_url:
        lines += ["", f"Report: {report_url}"]
    shifted = ", ".join(f"{ACTOR_NAMES[a.actor]} {a.from_stance} -> {a.to_stance}" for a in alerts)
    quiet = f"{len(rows)} judgment{'s' if len(rows) != 1 else ''}, no shift"
    subject = f"kstance digest {day.isoformat()}: " + (f"shift: {shifted}" if alerts else quiet)
    return subject, "\n".join(lines)


def send_digest(store: Store, channels: list[Channel], day: date,
                report_url: str | None = None) -> dict[str, str | None]:
    """Send the day's digest through every channel that has not had it. Returns channel key -> None (sent) or
    the error. A failed digest is tried again by the next run of the same day."""
    results: dict[str, str | None] = {}
    since = now() - timedelta(hours=24)
    contents: dict[bool, tuple[str, str]] = {}
    for ch in channels:
        with store.session() as s:
            row = s.get(DigestRow, (day, ch.key))
            if row is not None and row.state in (DeliveryState.SENT, DeliveryState.SENDING, DeliveryState.UNKNOWN):
                if row.state == DeliveryState.SENDING:  # a run died mid-send: not resent (at most once)
                    row.state = DeliveryState.UNKNOWN
                    row.last_error = "the run was interrupted while sending the digest"
                continue
            if row is None:
                row = DigestRow(day=day, channel=ch.key, attempts=0)
                s.add(row)
            row.state, row.attempts = DeliveryState.SENDING, (row.attempts or 0) + 1
        slack = ch.key.startswith("slack")
        if slack not in contents:
            contents[slack] = digest_content(store, since, day, report_url, clean=slack_text if slack else plain_text)
        content = contents[slack]
        error = notify(ch, content[0], content[1], apprise.NotifyFormat.TEXT)
        with store.session() as s:
            row = s.get(DigestRow, (day, ch.key))
            row.state, row.last_error = (DeliveryState.SENT, None) if error is None else (DeliveryState.FAILED, error)
            row.sent_at = now() if error is None else None
        results[ch.key] = error
    return results
