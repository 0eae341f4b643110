"""The outbox: every alert is in the store before any delivery; this sends what is due, once."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select

from alerts.deliver import Channel, send
from store.models import AlertRow, DeliveryRow
from store.repository import (Store, article_links, due_deliveries, ensure_deliveries, mark_delivery, muted_actors,
                              shift_from_row)


@dataclass
class DeliveryReport:
    sent: list[tuple[str, str]] = field(default_factory=list)  # (alert id, channel key)
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (alert id, channel key, error)
    unknown: list[tuple[str, str]] = field(default_factory=list)


def settle_interrupted(store: Store) -> list[tuple[str, str]]:
    """Deliveries left in `sending` by a killed run: apprise may or may not have sent them. They become
    `unknown` and are not resent (at most once)."""
    out = []
    with store.session() as s:
        for d in s.scalars(select(DeliveryRow).where(DeliveryRow.state == "sending")):
            d.state = "unknown"
            d.last_error = "the run was interrupted while sending; check the channel before resending"
            out.append((d.alert_id, d.channel))
    return out


def deliver_due(store: Store, channels: list[Channel], recent_days: int = 14,
                retry_base: timedelta = timedelta(minutes=5), report_url: str | None = None) -> DeliveryReport:
    """Send every due delivery once. Messages link articles as their sources served them, and the report
    when `report_url` (KSTANCE_REPORT_URL) says where it is published."""
    report = DeliveryReport()
    report.unknown = settle_interrupted(store)
    if not channels:
        return report
    by_key = {c.key: c for c in channels}
    ensure_deliveries(store, list(by_key), date.today() - timedelta(days=recent_days))
    muted = muted_actors(store, date.today())
    for d in due_deliveries(store, list(by_key)):
        with store.session() as s:
            row = s.get(AlertRow, d.alert_id)
            if row is None or row.acked_at is not None:  # a person has seen it: no retry of an earlier failure
                continue
            if row.actor in muted:  # muted since it was recorded: not sent, and marked so
                row.muted = True
                s.get(DeliveryRow, (d.alert_id, d.channel)).state = "muted"
                continue
            shift, historical = shift_from_row(row), row.historical
        links = article_links(store, [*shift.articles, *(e.url for e in shift.evidence)])
        mark_delivery(store, d.alert_id, d.channel, state="sending")
        error = send(by_key[d.channel], shift, historical=historical, links=links, report_url=report_url)
        if error is None:
            mark_delivery(store, d.alert_id, d.channel, state="sent")
            report.sent.append((d.alert_id, d.channel))
        else:
            mark_delivery(store, d.alert_id, d.channel, state="failed", error=error, retry_base=retry_base)
            report.failed.append((d.alert_id, d.channel, error))
    return report
