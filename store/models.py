"""Tables. One row per canonical article, per (article, actor) judgment, per feed, per alert, per (alert, channel)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from vocab.states import DeliveryState


class Base(DeclarativeBase):
    pass


class ArticleRow(Base):
    __tablename__ = "articles"
    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    original_url: Mapped[str | None] = mapped_column(String(2048))  # as the feed or archive listed it
    # where the page was served (after redirects): the link people get
    served_url: Mapped[str | None] = mapped_column(String(2048))
    title: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(256), default="")
    author: Mapped[str | None] = mapped_column(String(512))
    published: Mapped[date | None] = mapped_column(Date, index=True)
    language: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(32), index=True)  # one of vocab.states.ArticleStatus
    reason: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    simhash: Mapped[str | None] = mapped_column(String(16))
    duplicate_of: Mapped[str | None] = mapped_column(String(2048))
    origin: Mapped[str | None] = mapped_column(String(2048))  # feed URL or archive name
    text: Mapped[str] = mapped_column(Text, default="")
    first_seen: Mapped[datetime] = mapped_column(DateTime)
    # a publication date outside the plausible window: kept here with its problem, never used (published is None)
    date_problem: Mapped[str | None] = mapped_column(Text)
    # a page that failed transiently (5xx, 429, timeout): fetched again after retry_after, at most a few times
    fetch_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    retry_after: Mapped[datetime | None] = mapped_column(DateTime, index=True)


class JudgmentRow(Base):
    __tablename__ = "judgments"
    article_url: Mapped[str] = mapped_column(ForeignKey("articles.url", ondelete="CASCADE"), primary_key=True)
    actor: Mapped[str] = mapped_column(String(2), primary_key=True)
    stance: Mapped[str] = mapped_column(String(16))
    score: Mapped[float] = mapped_column(Float)
    confidence: Mapped[float] = mapped_column(Float)
    evidence: Mapped[list] = mapped_column(JSON)
    sentences: Mapped[int] = mapped_column(Integer)
    model: Mapped[str] = mapped_column(String(64))


class FeedRow(Base):
    __tablename__ = "feeds"
    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    name: Mapped[str] = mapped_column(String(256), default="")
    outlet: Mapped[str] = mapped_column(String(256), default="")
    language: Mapped[str | None] = mapped_column(String(16))
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(128))
    last_polled: Mapped[datetime | None] = mapped_column(DateTime)
    last_success: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    next_poll: Mapped[datetime | None] = mapped_column(DateTime)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    items_seen: Mapped[int] = mapped_column(Integer, default=0)


class AlertRow(Base):
    __tablename__ = "alerts"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # the Shift's stable key
    actor: Mapped[str] = mapped_column(String(2), index=True)
    from_stance: Mapped[str] = mapped_column(String(16))
    to_stance: Mapped[str] = mapped_column(String(16))
    from_score: Mapped[float] = mapped_column(Float)
    to_score: Mapped[float] = mapped_column(Float)
    magnitude: Mapped[float] = mapped_column(Float)
    confidence: Mapped[float] = mapped_column(Float)
    detected_at: Mapped[date] = mapped_column(Date, index=True)
    first_date: Mapped[date] = mapped_column(Date)
    last_date: Mapped[date] = mapped_column(Date)
    articles: Mapped[list] = mapped_column(JSON)
    evidence: Mapped[list] = mapped_column(JSON)
    historical: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    muted: Mapped[bool] = mapped_column(Boolean, default=False)  # its target was muted: recorded, not sent
    acked_at: Mapped[datetime | None] = mapped_column(DateTime)  # acknowledged by a person (`kstance alerts --ack`)
    # how the detector found it (NULL on alerts recorded before migration 0003): its statistic and threshold at
    # confirmation, the article rate per day the threshold was set for, and the method
    statistic: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    rate_per_day: Mapped[float | None] = mapped_column(Float)
    method: Mapped[str | None] = mapped_column(String(32))


class DeliveryRow(Base):
    __tablename__ = "deliveries"
    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(64), primary_key=True)  # masked, stable name of the URL
    # one of vocab.states.DeliveryState (pending, sending, sent, failed, unknown, dead, dropped, skipped, muted,
    # digest): the states and what each means are defined there; alerts/outbox.py draws how they move
    state: Mapped[str] = mapped_column(String(16), default=DeliveryState.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_try: Mapped[datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)


class RunRow(Base):
    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    started: Mapped[datetime] = mapped_column(DateTime)
    finished: Mapped[datetime | None] = mapped_column(DateTime)
    summary: Mapped[dict | None] = mapped_column(JSON)


class WriterLease(Base):
    """One writer per store, whatever the home or the URL's spelling: the store itself holds who writes.
    A lease expires unless its holder renews it (heartbeat); a holder on this host that died (SIGKILL) is
    recognised at once by its process id and start time."""
    __tablename__ = "writer_lease"
    name: Mapped[str] = mapped_column(String(16), primary_key=True)  # "writer"
    owner: Mapped[str] = mapped_column(String(256))  # host:pid:start-time
    what: Mapped[str] = mapped_column(String(64))  # "kstance run (pid 123)"
    acquired: Mapped[datetime] = mapped_column(DateTime)
    heartbeat: Mapped[datetime] = mapped_column(DateTime)
    expires: Mapped[datetime] = mapped_column(DateTime)


class MuteRow(Base):
    __tablename__ = "mutes"
    actor: Mapped[str] = mapped_column(String(2), primary_key=True)
    until: Mapped[date] = mapped_column(Date)  # muted through this day (inclusive)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class DigestRow(Base):
    __tablename__ = "digests"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    channel: Mapped[str] = mapped_column(String(64), primary_key=True)
    # the digest's delivery, in vocab.states.DeliveryState's words: sending, sent, failed or unknown
    state: Mapped[str] = mapped_column(String(16), default=DeliveryState.SENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
