"""Alerts and their deliveries (the outbox's rows), acknowledgements and mutes."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import delete, select

from classifiers.shifts import Evidence, Shift
from store.engine import Store, StoreError, now
from store.models import AlertRow, DeliveryRow, MuteRow
from vocab.rules import backoff
from vocab.states import DeliveryState


def record_shifts(store: Store, actor_shifts: list[Shift], *, historical: bool, deliver: bool,
                  channels: list[str], muted: frozenset[str] | set[str] = frozenset(),
                  pending_state: str = DeliveryState.PENDING) -> list[str]:
    """Write new shifts as alerts, each with a delivery per channel: `pending` when they are to be sent,
    `skipped` otherwise, `muted` when their target is in `muted` (the alert is recorded and marked, not sent).
    Returns the ids of the alerts that were new. Known ids are left as they are."""
    new = []
    with store.session() as s:
        for sh in actor_shifts:
            if s.get(AlertRow, sh.key) is not None:
                continue
            s.add(AlertRow(
                id=sh.key, actor=sh.actor, from_stance=sh.from_stance, to_stance=sh.to_stance,
                from_score=sh.from_score, to_score=sh.to_score, magnitude=sh.magnitude, confidence=sh.confidence,
                detected_at=sh.detected_at, first_date=sh.first_date, last_date=sh.last_date,
                articles=list(sh.articles),
                evidence=[{"sentence": e.sentence, "title": e.title, "url": e.url, "published": e.published.isoformat()}
                          for e in sh.evidence],
                historical=historical, created_at=now(), muted=sh.actor in muted,
                statistic=sh.statistic, threshold=sh.threshold, rate_per_day=sh.rate_per_day, method=sh.method or None,
            ))
            s.flush()
            # `digest` as pending_state: sent in the day's digest
            state = DeliveryState.MUTED if sh.actor in muted else pending_state if deliver else DeliveryState.SKIPPED
            for ch in channels:
                s.add(DeliveryRow(alert_id=sh.key, channel=ch, state=state, attempts=0))
            new.append(sh.key)
    return new


def alerts(store: Store) -> list[tuple[AlertRow, list[DeliveryRow]]]:
    with store.session() as s:
        rows = list(s.scalars(select(AlertRow).order_by(AlertRow.detected_at, AlertRow.actor, AlertRow.id)))
        dels = list(s.scalars(select(DeliveryRow)))
    by_alert: dict[str, list[DeliveryRow]] = {}
    for d in dels:
        by_alert.setdefault(d.alert_id, []).append(d)
    return [(a, sorted(by_alert.get(a.id, []), key=lambda d: d.channel)) for a in rows]


def shift_from_row(a: AlertRow) -> Shift:
    return Shift(a.actor, a.from_stance, a.to_stance, a.from_score, a.to_score, a.magnitude, a.confidence,
                 a.detected_at, a.first_date, a.last_date, tuple(a.articles),
                 tuple(Evidence(e["sentence"], e["title"], e["url"], date.fromisoformat(e["published"]))
                       for e in a.evidence),
                 statistic=a.statistic or 0.0, threshold=a.threshold or 0.0, rate_per_day=a.rate_per_day or 0.0,
                 method=a.method or "")


def ensure_deliveries(store: Store, channels: list[str], since: date) -> None:
    """A channel added to the settings later gets pending rows for the recent live alerts it has not seen
    (not for the whole history, which would flood a new channel)."""
    with store.session() as s:
        live = list(s.scalars(select(AlertRow.id).where(AlertRow.historical.is_(False), AlertRow.detected_at >= since,
                                                        AlertRow.muted.is_(False), AlertRow.acked_at.is_(None))))
        have = set(s.execute(select(DeliveryRow.alert_id, DeliveryRow.channel)).tuples())
        for aid in live:
            for ch in channels:
                if (aid, ch) not in have:
                    s.add(DeliveryRow(alert_id=aid, channel=ch, state=DeliveryState.PENDING, attempts=0))


def due_deliveries(store: Store, channels: list[str]) -> list[DeliveryRow]:
    t = now()
    with store.session() as s:
        return list(s.scalars(select(DeliveryRow).where(
            DeliveryRow.state.in_((DeliveryState.PENDING, DeliveryState.FAILED)), DeliveryRow.channel.in_(channels),
            (DeliveryRow.next_try.is_(None)) | (DeliveryRow.next_try <= t),
        ).order_by(DeliveryRow.alert_id, DeliveryRow.channel)))


def mark_delivery(store: Store, alert_id: str, channel: str, *, state: str, error: str | None = None,
                  retry_base: timedelta = timedelta(minutes=5)) -> None:
    with store.session() as s:
        d = s.get(DeliveryRow, (alert_id, channel))
        if d is None:
            return
        if state == DeliveryState.SENDING:
            d.attempts = (d.attempts or 0) + 1
        d.state, d.last_error = state, error
        if state == DeliveryState.SENT:
            d.sent_at, d.next_try = now(), None
        elif state == DeliveryState.FAILED:
            d.next_try = now() + backoff(retry_base, d.attempts - 1, cap=64)
        elif state == DeliveryState.UNKNOWN:
            d.next_try = None


def expire_deliveries(store: Store, max_attempts: int, older_than: datetime) -> list[tuple[str, str, str]]:
    """Failed deliveries that have had their attempts, or whose alert was recorded before `older_than`,
    become `dead`, keeping their last error. Returns (alert id, channel, last error) of each."""
    out = []
    with store.session() as s:
        rows = s.execute(select(DeliveryRow, AlertRow.created_at).join(AlertRow, AlertRow.id == DeliveryRow.alert_id)
                         .where(DeliveryRow.state.in_((DeliveryState.FAILED, DeliveryState.PENDING)))).all()
        for d, created in rows:
            too_many = d.state == DeliveryState.FAILED and (d.attempts or 0) >= max_attempts
            too_old = created is not None and created < older_than and (d.attempts or 0) > 0
            if too_many or too_old:
                why = f"{d.attempts} attempts" if too_many else f"still undelivered after {(now() - created).days} days"
                d.state, d.next_try = DeliveryState.DEAD, None
                d.last_error = f"gave up ({why}); last error: {d.last_error or 'none'}"
                out.append((d.alert_id, d.channel, d.last_error))
    return out


def resolve_alert_id(store: Store, prefix: str) -> str:
    """The alert id that `prefix` names (a whole id or an unambiguous start of one); StoreError otherwise."""
    with store.session() as s:
        ids = list(s.scalars(select(AlertRow.id).where(AlertRow.id.startswith(prefix, autoescape=True)).limit(2)))
    if not ids or not prefix:
        raise StoreError(f"no alert with id {prefix!r} (see `kstance alerts --format jsonl`)")
    if len(ids) > 1:
        raise StoreError(f"{prefix!r} names more than one alert; give more of its id")
    return ids[0]


def set_deliveries(store: Store, alert_id: str, *, state: str) -> list[str]:
    """By hand: `pending` (send again at the next run, attempts counted afresh) or `dropped` (never send),
    for every delivery of the alert not already sent. Returns the channels changed."""
    changed = []
    with store.session() as s:
        for d in s.scalars(select(DeliveryRow).where(DeliveryRow.alert_id == alert_id,
                                                         DeliveryRow.state != DeliveryState.SENT)):
            if state == DeliveryState.PENDING:
                d.attempts, d.next_try = 0, None
                d.last_error = f"retry asked by hand (was {d.state}: {d.last_error or 'no error'})"[:2000]
            else:
                d.last_error = f"dropped by hand (was {d.state}: {d.last_error or 'no error'})"[:2000]
            d.state = state
            changed.append(d.channel)
    return changed


def ack_alert(store: Store, id_prefix: str) -> list[str]:
    """Acknowledge the alert whose id starts with id_prefix (only when exactly one does). Returns the matches."""
    with store.session() as s:
        rows = list(s.scalars(select(AlertRow).where(AlertRow.id.like(id_prefix.replace("%", "") + "%"))))
        if len(rows) == 1 and rows[0].acked_at is None:
            rows[0].acked_at = now()
        return [r.id for r in rows]


def set_mute(store: Store, actor: str, until: date) -> None:
    with store.session() as s:
        row = s.get(MuteRow, actor)
        if row is None:
            s.add(MuteRow(actor=actor, until=until, created_at=now()))
        else:
            row.until, row.created_at = until, now()


def clear_mute(store: Store, actor: str) -> bool:
    with store.session() as s:
        return bool(s.execute(delete(MuteRow).where(MuteRow.actor == actor)).rowcount)


def mutes(store: Store) -> dict[str, date]:
    with store.session() as s:
        return {m.actor: m.until for m in s.scalars(select(MuteRow))}


def muted_actors(store: Store, day: date) -> set[str]:
    """Targets muted on this day (a mute runs through its `until` day)."""
    return {a for a, until in mutes(store).items() if day <= until}
