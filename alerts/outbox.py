"""The outbox: every alert is in the store before any delivery; this sends what is due, once.

Delivery states, per (alert, channel):

    pending --send--> sending --> sent
                         |------> failed  (certainly not delivered) --back-off--> sending ...
                         |------> unknown (the request left, no answer; or the run died mid-send)
    failed, after `max_attempts` attempts or once the alert is older than `max_age` --> dead (with the last error)
    unknown --at-least-once--> failed (sent again)          unknown --at-most-once--> stays (a person decides)
    any but sent --`kstance alerts --retry ID`--> pending    any but sent --`kstance alerts --drop ID`--> dropped
    pending, for a muted target --> muted (not sent)   an acknowledged alert: never sent or retried
    KSTANCE_DIGEST=daily: recorded as `digest`, sent in the day's one message (alerts.digest)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy import select

from alerts.deliver import Channel, send_observed
from store.models import AlertRow, DeliveryRow
from store.repository import (
    Store,
    article_links,
    due_deliveries,
    ensure_deliveries,
    expire_deliveries,
    mark_delivery,
    muted_actors,
    now,
    shift_from_row,
)
from vocab.states import DeliveryState


class Guarantee(StrEnum):
    """How an outcome that is unknown (the request left, no answer came) is treated (KSTANCE_DELIVERY_GUARANTEE)."""

    AT_MOST_ONCE = "at-most-once"  # never resent automatically: a person decides
    AT_LEAST_ONCE = "at-least-once"  # resent with back-off: a channel may get a duplicate


@dataclass
class DeliveryReport:
    sent: list[tuple[str, str]] = field(default_factory=list)  # (alert id, channel key)
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (alert id, channel key, error)
    unknown: list[tuple[str, str]] = field(default_factory=list)  # (alert id, channel key)
    dead: list[tuple[str, str, str]] = field(default_factory=list)  # (alert id, channel key, last error)


def settle_interrupted(store: Store, guarantee: str = Guarantee.AT_MOST_ONCE) -> list[tuple[str, str]]:
    """Deliveries left in `sending` by a killed run: apprise may or may not have sent them. At most once:
    they become `unknown` and are not resent. At least once: they are sent again (a duplicate is possible)."""
    out = []
    with store.session() as s:
        for d in s.scalars(select(DeliveryRow).where(DeliveryRow.state == DeliveryState.SENDING)):
            d.state = DeliveryState.UNKNOWN if guarantee == Guarantee.AT_MOST_ONCE else DeliveryState.FAILED
            d.last_error = "the run was interrupted while sending; check the channel before resending"
            d.next_try = None
            out.append((d.alert_id, d.channel))
    return out


def deliver_due(store: Store, channels: list[Channel], recent_days: int = 14,
                retry_base: timedelta = timedelta(minutes=5), *, guarantee: str = Guarantee.AT_MOST_ONCE,
                max_attempts: int = 8, max_age: timedelta = timedelta(days=3),
                report_url: str | None = None) -> DeliveryReport:
    """Send what is due, each (alert, channel) on its own. `guarantee`: at-most-once (default: an outcome
    unknown after the request left is never resent automatically) or at-least-once (it is, with back-off).
    A delivery that failed `max_attempts` times, or whose alert is older than `max_age`, is `dead`.
    Messages link articles as their sources served them, and the report when `report_url`
    (KSTANCE_REPORT_URL) says where it is published. A muted target's or an acknowledged alert is not sent."""
    if guarantee not in (Guarantee.AT_MOST_ONCE, Guarantee.AT_LEAST_ONCE):
        raise ValueError(f"delivery guarantee must be {Guarantee.AT_MOST_ONCE} or {Guarantee.AT_LEAST_ONCE}, "
                         f"not {guarantee!r}")
    report = DeliveryReport()
    report.unknown = settle_interrupted(store, guarantee)
    if not channels:
        return report
    by_key = {c.key: c for c in channels}
    ensure_deliveries(store, list(by_key), date.today() - timedelta(days=recent_days))
    if guarantee == Guarantee.AT_LEAST_ONCE:
        _resend_unknown(store, list(by_key))
    report.dead += expire_deliveries(store, max_attempts, now() - max_age)
    muted = muted_actors(store, date.today())
    for d in due_deliveries(store, list(by_key)):
        with store.session() as s:
            row = s.get(AlertRow, d.alert_id)
            if row is None or row.acked_at is not None:  # a person has seen it: no retry of an earlier failure
                continue
            if row.actor in muted:  # muted since it was recorded: not sent, and marked so
                row.muted = True
                s.get(DeliveryRow, (d.alert_id, d.channel)).state = DeliveryState.MUTED
                continue
            shift, historical = shift_from_row(row), row.historical
        links = article_links(store, [*shift.articles, *(e.url for e in shift.evidence)])
        mark_delivery(store, d.alert_id, d.channel, state=DeliveryState.SENDING)
        outcome = send_observed(by_key[d.channel], shift, historical=historical, links=links, report_url=report_url)
        if outcome.state == DeliveryState.SENT:
            mark_delivery(store, d.alert_id, d.channel, state=DeliveryState.SENT)
            report.sent.append((d.alert_id, d.channel))
        elif outcome.state == DeliveryState.UNKNOWN and guarantee == Guarantee.AT_MOST_ONCE:
            mark_delivery(store, d.alert_id, d.channel, state=DeliveryState.UNKNOWN, error=outcome.error)
            report.unknown.append((d.alert_id, d.channel))
        else:
            mark_delivery(store, d.alert_id, d.channel, state=DeliveryState.FAILED, error=outcome.error,
                          retry_base=retry_base)
            report.failed.append((d.alert_id, d.channel, outcome.error or "delivery failed"))
    report.dead += expire_deliveries(store, max_attempts, now() - max_age)
    return report


def _resend_unknown(store: Store, channels: list[str]) -> None:
    with store.session() as s:
        unknown = select(DeliveryRow).where(DeliveryRow.state == DeliveryState.UNKNOWN,
                                            DeliveryRow.channel.in_(channels))
        for d in s.scalars(unknown):
            d.state = DeliveryState.FAILED
            d.next_try = None
