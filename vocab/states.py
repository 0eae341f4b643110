"""The states records move through, defined once. `StrEnum` members compare and store as their plain strings, so
rows written before these existed read back unchanged."""
from __future__ import annotations

from enum import StrEnum


class ArticleStatus(StrEnum):
    """Whether an article was judged, and if not, why (stored in articles.status)."""

    OK = "ok"
    UNEXTRACTABLE = "unextractable"
    UNSUPPORTED_LANGUAGE = "unsupported_language"
    IRRELEVANT = "irrelevant"
    DUPLICATE = "duplicate"


class DeliveryState(StrEnum):
    """One alert on one channel (stored in deliveries.state)."""

    PENDING = "pending"
    SENDING = "sending"  # handed to apprise; a killed run leaves it here
    SENT = "sent"
    FAILED = "failed"  # retried with back-off
    UNKNOWN = "unknown"  # sent or not: not resent under at-most-once
    DEAD = "dead"  # given up: too many attempts or too old
    DROPPED = "dropped"  # by hand (`kstance alerts --drop`)
    SKIPPED = "skipped"  # historical (a backfill's alerts are recorded, not sent)
    MUTED = "muted"
    DIGEST = "digest"  # held for the daily digest


class Stance(StrEnum):
    COOPERATIVE = "cooperative"
    NEUTRAL = "neutral"
    CONFRONTATIONAL = "confrontational"
