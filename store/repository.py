"""The repository: every read and write the flows make, in small transactions, idempotent by key."""
from __future__ import annotations

import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

from sqlalchemy import create_engine, event, select, delete, func
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import InternalError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from classifiers.actors import ACTORS
from classifiers.shifts import Evidence, Observation, Shift
from extractors.article import Article
from store.models import AlertRow, ArticleRow, DeliveryRow, FeedRow, JudgmentRow, RunRow

if TYPE_CHECKING:  # classifiers.stance imports torch: a store that is only read or written never needs it
    from classifiers.stance import Judgment


class StoreError(RuntimeError):
    """A store that cannot be opened or written; the message is one line, with passwords masked."""


# What the database said, and what it means for the user (SQLite and PostgreSQL wordings).
_FAULTS = (
    (("database is locked", "lock timeout", "could not obtain lock", "deadlock detected"),
     "the store is locked by another writer; nothing was written by this step, try again when it is done"),
    (("readonly database", "read-only", "read only"),
     "the store is on a read-only disk or database; nothing was written"),
    (("disk is full", "no space left", "could not extend file", "disk full"),
     "the store's disk is full; the last transaction was rolled back, free space and run again"),
    (("unable to open database file",), "the database file cannot be opened (missing folder or permissions)"),
)


def describe_db_error(url: str | None, exc: BaseException) -> str:
    """One line for a database fault: what it means, then the database's own words (and the URL, masked)."""
    orig = getattr(exc, "orig", None) or exc
    said = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    low = said.lower()
    meaning = next((m for keys, m in _FAULTS if any(k in low for k in keys)), "database error")
    if url:
        from extractors.redact import scrub

        said = scrub(said, url)
    return f"{meaning} ({mask_url(url) + ': ' if url else ''}{said})"


def now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def mask_url(url: str) -> str:
    """The store's URL for messages, password hidden. SQLAlchemy renders it when its reading is unambiguous (one
    `@` at most, in the host part, a database dialect SQLAlchemy knows, no query); anything else (no scheme, an
    unencoded `@` or `/` in the password, a webhook or token URL) goes through the one masking function
    (extractors.redact), which copes with URLs that do not parse. SQLAlchemy 2.0 (pinned <2.1 for prefect's
    scheduler) parses `slack://TOKEN/...` or `json://host/?token=...` and would render them whole."""
    from extractors.redact import mask_url as masked

    _, sep, rest = str(url).partition("://")
    authority = rest.split("/", 1)[0]
    if sep and "?" not in rest and authority.count("@") <= 1 and rest.count("@") == authority.count("@"):
        try:
            parsed = make_url(url)
            parsed.get_dialect()  # not a database URL: masked whole
            return parsed.render_as_string(hide_password=True)
        except Exception:
            pass
    return masked(url)


@dataclass
class Store:
    engine: Engine
    sessions: sessionmaker
    url: str = ""

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed whole or rolled back whole. A database fault (locked, read-only, disk
        full, server gone) becomes a StoreError with one clear line; programming errors pass through."""
        with self.sessions() as s:
            try:
                yield s
                s.commit()
            except (OperationalError, InternalError) as exc:
                _rollback_quietly(s)
                raise StoreError(describe_db_error(self.url, exc)) from None
            except BaseException:
                _rollback_quietly(s)
                raise

    def close(self) -> None:
        self.engine.dispose()


def _rollback_quietly(s: Session) -> None:
    try:
        s.rollback()
    except SQLAlchemyError:  # the connection itself is gone; the database discards the transaction
        pass


def open_store(url: str, busy_timeout_s: float = 30.0) -> Store:
    """Open (and create if needed) the store; raises StoreError with one clear line before any work.
    `busy_timeout_s`: how long a write waits for another writer's lock before giving up with StoreError."""
    try:
        sa_url = make_url(url)
        connect_args = {}
        if sa_url.get_backend_name() == "postgresql":
            connect_args["options"] = f"-c lock_timeout={int(busy_timeout_s * 1000)}"
        engine = create_engine(url, pool_pre_ping=True, future=True, connect_args=connect_args)
    except Exception as exc:
        from extractors.redact import scrub

        raise StoreError(f"bad database URL {mask_url(url)}: {scrub(str(exc), url)}") from None
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # WAL: readers do not block the writer
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()
    try:
        migrate(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        folder = _sqlite_folder(sa_url)
        if folder is not None and folder.is_dir() and not os.access(folder, os.W_OK):
            # SQLite cannot say it plainly: it needs to write its WAL and lock files beside the database
            raise StoreError(f"cannot open the store at {mask_url(url)}: the folder {folder} is on a read-only disk "
                             f"or not writable; nothing was written") from None
        from extractors.redact import scrub

        raise StoreError(f"cannot open the store at {mask_url(url)}: {scrub(describe_db_error(None, exc), url)}") from None
    return Store(engine, sessionmaker(engine, expire_on_commit=False), url)


def _sqlite_folder(sa_url) -> Path | None:
    if sa_url.get_backend_name() != "sqlite" or not sa_url.database or sa_url.database == ":memory:":
        return None
    return Path(sa_url.database).resolve().parent


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (Alembic, store/migrations). Safe to run at every start."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


# -- articles -------------------------------------------------------------------------------------

def existing_urls(store: Store, urls: Iterable[str]) -> set[str]:
    urls = list(set(urls))
    found: set[str] = set()
    with store.session() as s:
        for i in range(0, len(urls), 500):
            found.update(s.scalars(select(ArticleRow.url).where(ArticleRow.url.in_(urls[i:i + 500]))))
    return found


def dedup_index(store: Store) -> list[tuple[str, str, str | None]]:
    """(url, content_hash, simhash) of every stored story that is not itself a duplicate."""
    with store.session() as s:
        return list(s.execute(select(ArticleRow.url, ArticleRow.content_hash, ArticleRow.simhash)
                              .where(ArticleRow.duplicate_of.is_(None))).tuples())


def save_article(s: Session, a: Article, *, origin: str | None, simhash: int | None = None,
                 duplicate_of: str | None = None) -> None:
    row = s.get(ArticleRow, a.url)
    if row is None:
        row = ArticleRow(url=a.url, first_seen=now())
        s.add(row)
    row.original_url = a.original_url
    row.title, row.source, row.author = a.title, a.source, a.author
    row.published, row.language = a.published, a.language
    row.status, row.reason = a.status, a.reason
    row.content_hash = a.content_hash
    row.simhash = f"{simhash:016x}" if simhash is not None else None
    row.duplicate_of = duplicate_of
    row.origin = origin
    row.text = a.text


def save_judgments(s: Session, url: str, judgments: list[Judgment], model: str) -> None:
    s.execute(delete(JudgmentRow).where(JudgmentRow.article_url == url))
    for j in judgments:
        s.add(JudgmentRow(article_url=url, actor=j.actor, stance=j.stance, score=j.score, confidence=j.confidence,
                          evidence=list(j.evidence), sentences=j.sentences, model=model))


def series(store: Store, actor: str) -> list[Observation]:
    """Every judged article toward this actor, in publication order (undated articles excluded)."""
    with store.session() as s:
        rows = s.execute(
            select(JudgmentRow, ArticleRow.published, ArticleRow.title, ArticleRow.source)
            .join(ArticleRow, ArticleRow.url == JudgmentRow.article_url)
            .where(JudgmentRow.actor == actor, ArticleRow.published.is_not(None))
            .order_by(ArticleRow.published, ArticleRow.url)
        ).all()
    return [Observation(j.article_url, pub, j.score, j.confidence, j.stance, title or "", source or "",
                        tuple(j.evidence or ())) for j, pub, title, source in rows]


def stance_table(store: Store, recent_days: int = 30) -> list[dict]:
    """Per actor: the latest judged article's date, the mean score over the last `recent_days` days of
    articles (article time), the count, and the strongest recent evidence."""
    out = []
    with store.session() as s:
        for actor in ACTORS:
            last = s.scalar(select(func.max(ArticleRow.published)).join(
                JudgmentRow, JudgmentRow.article_url == ArticleRow.url).where(JudgmentRow.actor == actor))
            if last is None:
                out.append({"actor": actor, "n": 0})
                continue
            since = last - timedelta(days=recent_days)
            rows = s.execute(
                select(JudgmentRow, ArticleRow.title).join(ArticleRow, ArticleRow.url == JudgmentRow.article_url)
                .where(JudgmentRow.actor == actor, ArticleRow.published >= since)
            ).all()
            scores = [j.score for j, _ in rows]
            best = max(rows, key=lambda r: r[0].confidence)
            out.append({"actor": actor, "n": len(rows), "score": sum(scores) / len(scores), "last": last,
                        "evidence": (best[0].evidence or [""])[0], "title": best[1]})
    return out


def counts(store: Store) -> dict[str, int]:
    with store.session() as s:
        by_status = dict(s.execute(select(ArticleRow.status, func.count()).group_by(ArticleRow.status)).tuples().all())
        by_status["judgments"] = s.scalar(select(func.count()).select_from(JudgmentRow)) or 0
        by_status["alerts"] = s.scalar(select(func.count()).select_from(AlertRow)) or 0
    return by_status


# -- feeds ----------------------------------------------------------------------------------------

def all_feeds(store: Store) -> list[FeedRow]:
    with store.session() as s:
        return list(s.scalars(select(FeedRow).order_by(FeedRow.url)))


def record_poll(store: Store, url: str, *, name: str, outlet: str, language: str | None, ok: bool,
                error: str | None, etag: str | None, last_modified: str | None, items: int,
                max_failures: int, base_interval: timedelta) -> FeedRow:
    """Update a feed's state after a poll: back-off doubles with each consecutive failure, and the feed
    is disabled, with the reason, after max_failures in a row."""
    t = now()
    with store.session() as s:
        row = s.get(FeedRow, url)
        if row is None:
            row = FeedRow(url=url, consecutive_failures=0, items_seen=0, disabled=False)
            s.add(row)
        row.name, row.outlet, row.language = name, outlet, language
        row.last_polled = t
        if ok:
            row.etag, row.last_modified = etag, last_modified
            row.last_success, row.last_error = t, None
            row.consecutive_failures = 0
            row.next_poll = t + base_interval
            row.items_seen = (row.items_seen or 0) + items
        else:
            row.last_error = error
            row.consecutive_failures = (row.consecutive_failures or 0) + 1
            row.next_poll = t + base_interval * min(2 ** row.consecutive_failures, 32)
            if row.consecutive_failures >= max_failures:
                row.disabled = True
                row.disabled_reason = f"{row.consecutive_failures} failures in a row; last: {error}"
        return row


def articles_per_origin(store: Store) -> dict[str, int]:
    """How many articles are stored per origin (a feed's URL, an archive's name)."""
    with store.session() as s:
        return dict(s.execute(select(ArticleRow.origin, func.count()).group_by(ArticleRow.origin)).tuples().all())


def reset_feed(store: Store, url: str) -> bool:
    """Clear a feed's back-off and failures and re-enable it: the next run polls it. False if it was never polled."""
    with store.session() as s:
        row = s.get(FeedRow, url)
        if row is None:
            return False
        row.consecutive_failures = 0
        row.next_poll = None
        row.disabled, row.disabled_reason = False, None
        row.last_error = None
        return True


# -- alerts and the outbox ------------------------------------------------------------------------

def record_shifts(store: Store, actor_shifts: list[Shift], *, historical: bool, deliver: bool,
                  channels: list[str]) -> list[str]:
    """Write new shifts as alerts, each with a delivery per channel: `pending` when they are to be sent,
    `skipped` otherwise. Returns the ids of the alerts that were new. Known ids are left as they are."""
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
                historical=historical, created_at=now(),
            ))
            s.flush()
            for ch in channels:
                s.add(DeliveryRow(alert_id=sh.key, channel=ch, state="pending" if deliver else "skipped", attempts=0))
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
                       for e in a.evidence))


def ensure_deliveries(store: Store, channels: list[str], since: date) -> None:
    """A channel added to the settings later gets pending rows for the recent live alerts it has not seen
    (not for the whole history, which would flood a new channel)."""
    with store.session() as s:
        live = list(s.scalars(select(AlertRow.id).where(AlertRow.historical.is_(False), AlertRow.detected_at >= since)))
        have = set(s.execute(select(DeliveryRow.alert_id, DeliveryRow.channel)).tuples())
        for aid in live:
            for ch in channels:
                if (aid, ch) not in have:
                    s.add(DeliveryRow(alert_id=aid, channel=ch, state="pending", attempts=0))


def due_deliveries(store: Store, channels: list[str]) -> list[DeliveryRow]:
    t = now()
    with store.session() as s:
        return list(s.scalars(select(DeliveryRow).where(
            DeliveryRow.state.in_(("pending", "failed")), DeliveryRow.channel.in_(channels),
            (DeliveryRow.next_try.is_(None)) | (DeliveryRow.next_try <= t),
        ).order_by(DeliveryRow.alert_id, DeliveryRow.channel)))


def mark_delivery(store: Store, alert_id: str, channel: str, *, state: str, error: str | None = None,
                  retry_base: timedelta = timedelta(minutes=5)) -> None:
    with store.session() as s:
        d = s.get(DeliveryRow, (alert_id, channel))
        if d is None:
            return
        if state == "sending":
            d.attempts = (d.attempts or 0) + 1
        d.state, d.last_error = state, error
        if state == "sent":
            d.sent_at, d.next_try = now(), None
        elif state == "failed":
            d.next_try = now() + retry_base * min(2 ** max(0, d.attempts - 1), 64)


def start_run(store: Store, kind: str) -> int:
    with store.session() as s:
        row = RunRow(kind=kind, started=now())
        s.add(row)
        s.flush()
        return row.id


def finish_run(store: Store, run_id: int, summary: dict) -> None:
    with store.session() as s:
        row = s.get(RunRow, run_id)
        if row:
            row.finished, row.summary = now(), summary


def last_runs(store: Store, n: int = 5) -> list[RunRow]:
    with store.session() as s:
        return list(s.scalars(select(RunRow).order_by(RunRow.id.desc()).limit(n)))
