"""From the stored judgments to alerts: shifts detected on each actor's whole series, recorded in the outbox, and
what is due sent."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from alerts.deliver import Channel
from alerts.outbox import DeliveryReport, deliver_due
from classifiers.actors import ACTORS
from classifiers.confusion import load_profile
from classifiers.shifts import DetectorConfig, Shift, detect
from pipeline.config import DeliveryPolicy
from store import repository as repo
from vocab.states import DeliveryState


def detect_shifts(store: repo.Store, cfg: DetectorConfig, reference: dict[str, dict],
                  artifact: Path | None = None) -> list[Shift]:
    """Every actor's shifts over its whole stored series: a pure function of the stored judgments, so a backfill
    and the daily runs that stored the same articles find the same shifts (alerts are keyed, never repeated).
    `artifact`: the calibrated model's folder, whose measured confusion the detector reads (or a default)."""
    profile = load_profile(artifact)
    shifts: list[Shift] = []
    for actor in ACTORS:
        ref = reference.get(actor, {}).get("score", 0.0)
        shifts += detect(actor, repo.series(store, actor), ref, cfg, profile)
    return shifts


def record_and_deliver(store: repo.Store, policy: DeliveryPolicy, channels: list[Channel], shifts: list[Shift], *,
                       backfill: bool, deliver_historical: bool = False, today: date | None = None,
                       deliver: bool = True) -> tuple[list[str], DeliveryReport]:
    """Record new shifts in the outbox, then send what is due. A shift is historical when it comes from a
    backfill (unless deliver_historical) or was confirmed by articles older than historical_after_days."""
    today = today or date.today()
    cutoff = today - timedelta(days=policy.historical_after_days)
    keys = [c.key for c in channels]
    muted = repo.muted_actors(store, today)  # `kstance mute`: recorded and marked, not sent
    daily = policy.digest == "daily" and not backfill
    new: list[str] = []
    for sh in shifts:
        historical = backfill or sh.detected_at < cutoff
        send_it = deliver_historical if backfill else not historical
        new += repo.record_shifts(store, [sh], historical=historical, deliver=send_it, channels=keys, muted=muted,
                                  pending_state=DeliveryState.DIGEST if daily else DeliveryState.PENDING)
    if daily:  # KSTANCE_DIGEST=daily: one message a day, with the day's judgments and shifts
        return new, send_digest(store, channels, today, policy.report_url) if deliver else DeliveryReport()
    report = deliver_due(store, channels, policy.historical_after_days, guarantee=policy.guarantee,
                         max_attempts=policy.max_attempts, max_age=policy.max_age,
                         report_url=policy.report_url) if deliver else DeliveryReport()
    return new, report


def send_digest(store: repo.Store, channels: list[Channel], today: date, report_url: str | None) -> DeliveryReport:
    """The day's digest through every channel, as a delivery report (one entry per channel)."""
    from alerts.digest import send_digest as send

    report = DeliveryReport()
    for key, error in send(store, channels, today, report_url).items():
        if error is None:
            report.sent.append((f"digest {today}", key))
        else:
            report.failed.append((f"digest {today}", key, error))
    return report
