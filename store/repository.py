"""The repository: every read and write the flows make, in small transactions, idempotent by key."""
from __future__ import annotations

from vocab.errors import RunError
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

from sqlalchemy import create_engine, event, select, delete, func, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError, InternalError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from classifiers.actors import ACTORS
from classifiers.shifts import Evidence, Observation, Shift
from extractors.article import Article, date_problem, shift_days
from store.models import AlertRow, ArticleRow, DeliveryRow, FeedRow, JudgmentRow, MuteRow, RunRow, WriterLease

if TYPE_CHECKING:  # classifiers.stance imports torch: a store that is only read or written never needs it
    from classifiers.stance import Judgment


class StoreError(RunError, RuntimeError):
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
    unencoded `@` or `/` in the password, an apprise, webhook or web URL given as the store's, whose secrets sit in
    the host, path or query) goes through the one masking function (extractors.redact), which copes with URLs that
    do not parse. SQLAlchemy 2.0 (pinned <2.1 for prefect's scheduler) parses `slack://TOKEN/...` or
    `json://host/?token=...` and would render them whole."""
    from extractors.redact import mask_url as masked

    scheme, sep, rest = str(url).partition("://")
    authority = rest.split("/", 1)[0]
    database = scheme.split("+", 1)[0].lower() in ("sqlite", "postgresql", "postgres", "mysql", "mariadb")
    if sep and database and "?" not in rest and authority.count("@") <= 1 and rest.count("@") == authority.count("@"):
        try:
            sa_url = make_url(url)
            sa_url.get_dialect()  # an unknown dialect: not a database URL, SQLAlchemy's reading means nothing
            return sa_url.render_as_string(hide_password=True)
        except Exception:
            pass
    return masked(url)


@dataclass
class Store:
    engine: Engine
    sessions: sessionmaker
    url: str = ""
    file: Path | None = None  # a SQLite store's database file ...
    identity: tuple[int, int] | None = None  # ... and its (device, inode) when the store was opened

    def check_identity(self) -> None:
        """A SQLite file deleted or replaced while kstance holds it open: SQLite goes on writing into the
        unlinked file, and the work would be lost without a word. Checked at every commit point."""
        if self.file is None or self.identity is None:
            return
        try:
            st = os.stat(self.file)
        except FileNotFoundError:
            raise StoreError(f"the store's database file {self.file} was deleted while kstance was using it; "
                             "the work of this run is lost, run it again") from None
        except OSError as exc:
            raise StoreError(f"the store's database file {self.file} cannot be checked: {exc}") from None
        if (st.st_dev, st.st_ino) != self.identity:
            raise StoreError(f"the store's database file {self.file} was replaced by another file while kstance "
                             "was using it; the work of this run went to the old file, run it again") from None

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed whole or rolled back whole. A database fault (locked, read-only, disk
        full, server gone) becomes a StoreError with one clear line; programming errors pass through. The
        store's identity (a SQLite file not deleted nor replaced) is checked before and after each commit."""
        with self.sessions() as s:
            try:
                yield s
                self.check_identity()
                s.commit()
                self.check_identity()
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
    store = Store(engine, sessionmaker(engine, expire_on_commit=False), url)
    db_file = _sqlite_file(sa_url)
    if db_file is not None:
        st = os.stat(db_file)
        store.file, store.identity = db_file, (st.st_dev, st.st_ino)
    return store


def _sqlite_file(sa_url) -> Path | None:
    """The resolved path of a SQLite store's file (whatever the URL's spelling: ./, //, links), else None."""
    folder = _sqlite_folder(sa_url)
    if folder is None or sa_url.query.get("mode") == "memory":
        return None
    return Path(sa_url.database).resolve()


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
        command.upgrade(cfg, "head")  # one chain: 0001 -> 0002 (integrity) -> 0002_i16


# -- articles -------------------------------------------------------------------------------------

def existing_urls(store: Store, urls: Iterable[str], *, retry: str = "known") -> set[str]:
    """The URLs among `urls` that are stored. A page waiting to be fetched again after a transient failure
    counts as stored with retry="known", as not stored once it is due with retry="due" (collection: fetch it),
    and as not stored at all with retry="replace" (screening: the fresh copy replaces it)."""
    urls = list(set(urls))
    found: set[str] = set()
    q = select(ArticleRow.url)
    if retry == "due":
        q = q.where((ArticleRow.retry_after.is_(None)) | (ArticleRow.retry_after > now()))
    elif retry == "replace":
        q = q.where(ArticleRow.retry_after.is_(None))
    with store.session() as s:
        for i in range(0, len(urls), 500):
            found.update(s.scalars(q.where(ArticleRow.url.in_(urls[i:i + 500]))))
    return found


def due_page_retries(store: Store, limit: int = 100) -> list[tuple[str, str, str, str, str | None]]:
    """(url, original url, title, source, origin) of the pages due to be fetched again, oldest first."""
    with store.session() as s:
        return list(s.execute(
            select(ArticleRow.url, ArticleRow.original_url, ArticleRow.title, ArticleRow.source, ArticleRow.origin)
            .where(ArticleRow.retry_after.is_not(None), ArticleRow.retry_after <= now())
            .order_by(ArticleRow.retry_after, ArticleRow.url).limit(limit)).tuples())


def dedup_index(store: Store) -> list[tuple[str, str, str | None]]:
    """(url, content_hash, simhash) of every stored story that is not itself a duplicate (nor a page
    waiting to be fetched again)."""
    with store.session() as s:
        return list(s.execute(select(ArticleRow.url, ArticleRow.content_hash, ArticleRow.simhash)
                              .where(ArticleRow.duplicate_of.is_(None), ArticleRow.retry_after.is_(None))).tuples())


def _text(value):
    """Text as every backend stores it: PostgreSQL refuses NUL characters, so none reaches the store."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, list):
        return [_text(v) for v in value]
    if isinstance(value, dict):
        return {k: _text(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class PageRetryPolicy:
    """A page that failed transiently is fetched again after delay, 2 x delay, 4 x delay, ..., `limit` times in all."""
    limit: int = 4
    delay: timedelta = timedelta(hours=1)


def save_article(s: Session, a: Article, *, origin: str | None, simhash: int | None = None,
                 duplicate_of: str | None = None, retry: PageRetryPolicy = PageRetryPolicy()) -> None:
    """Insert or update one article. A publication date outside the plausible window is stored as its problem
    (published stays empty, so detection, tables and plots never see it). A page that failed transiently
    (a.transient) is scheduled to be fetched again, with back-off, until retry.limit attempts."""
    row = s.get(ArticleRow, a.url)
    if row is None:
        row = ArticleRow(url=a.url, first_seen=now(), fetch_attempts=0)
        s.add(row)
    problem = date_problem(a.published)
    row.original_url = _text(a.original_url)
    row.served_url = _text(a.served_url or a.original_url) or row.served_url
    row.title, row.source, row.author = _text(a.title), _text(a.source), _text(a.author)
    row.published, row.language = (None if problem else a.published), _text(a.language)
    row.date_problem = problem
    row.status, row.reason = a.status, _text(a.reason)
    row.content_hash = a.content_hash
    row.simhash = f"{simhash:016x}" if simhash is not None else None
    row.duplicate_of = duplicate_of
    row.origin = _text(origin)
    row.text = _text(a.text)
    row.retry_after = None
    if a.transient:
        row.fetch_attempts = (row.fetch_attempts or 0) + 1
        if row.fetch_attempts < retry.limit:
            row.retry_after = now() + retry.delay * 2 ** (row.fetch_attempts - 1)
        else:
            row.reason = f"{row.reason} (gave up after {row.fetch_attempts} attempts)"


def save_judgments(s: Session, url: str, judgments: list[Judgment], model: str) -> None:
    s.execute(delete(JudgmentRow).where(JudgmentRow.article_url == url))
    for j in judgments:
        s.add(JudgmentRow(article_url=url, actor=j.actor, stance=j.stance, score=j.score, confidence=j.confidence,
                          evidence=_text(list(j.evidence)), sentences=j.sentences, model=model))


@dataclass(frozen=True)
class ArticleLink:
    """What a person is shown for a stored article: the address it was served from, its outlet and title."""
    link: str
    outlet: str
    title: str


def article_links(store: Store, urls: Iterable[str]) -> dict[str, ArticleLink]:
    """Canonical URL (the dedup key) -> the link as the source served it. The canonical form may not open
    (it rewrites http to https, drops www.), so it is never what people get when a served one is known."""
    urls = list({u for u in urls if u})
    out: dict[str, ArticleLink] = {}
    with store.session() as s:
        for i in range(0, len(urls), 500):
            for url, served, original, source, title in s.execute(
                    select(ArticleRow.url, ArticleRow.served_url, ArticleRow.original_url, ArticleRow.source,
                           ArticleRow.title).where(ArticleRow.url.in_(urls[i:i + 500]))):
                out[url] = ArticleLink(served or original or url, source or "", title or "")
    return out


def link_of(links: dict[str, ArticleLink], url: str) -> str:
    got = links.get(url)
    return got.link if got else url


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
            since = shift_days(last, -recent_days)
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
    with store.session() as s:
        return apply_poll(s, url, name=name, outlet=outlet, language=language, ok=ok, error=error, etag=etag,
                          last_modified=last_modified, items=items, max_failures=max_failures,
                          base_interval=base_interval)


def apply_poll(s: Session, url: str, *, name: str, outlet: str, language: str | None, ok: bool,
               error: str | None, etag: str | None, last_modified: str | None, items: int,
               max_failures: int, base_interval: timedelta) -> FeedRow:
    """record_poll inside a caller's transaction: the flows commit a feed's validators (ETag, Last-Modified)
    in the same transaction as the articles they cover, so a run killed or failing in between is finished
    by the next one (which polls without them and gets the articles again)."""
    t = now()
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
                  channels: list[str], muted: frozenset[str] | set[str] = frozenset(),
                  pending_state: str = "pending") -> list[str]:
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
            ))
            s.flush()
            state = "muted" if sh.actor in muted else pending_state if deliver else "skipped"  # `digest`: sent in the day's digest
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
                       for e in a.evidence))


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
        elif state == "unknown":
            d.next_try = None


def expire_deliveries(store: Store, max_attempts: int, older_than: datetime) -> list[tuple[str, str, str]]:
    """Failed deliveries that have had their attempts, or whose alert was recorded before `older_than`,
    become `dead`, keeping their last error. Returns (alert id, channel, last error) of each."""
    out = []
    with store.session() as s:
        rows = s.execute(select(DeliveryRow, AlertRow.created_at).join(AlertRow, AlertRow.id == DeliveryRow.alert_id)
                         .where(DeliveryRow.state.in_(("failed", "pending")))).all()
        for d, created in rows:
            too_many = d.state == "failed" and (d.attempts or 0) >= max_attempts
            too_old = created is not None and created < older_than and (d.attempts or 0) > 0
            if too_many or too_old:
                why = f"{d.attempts} attempts" if too_many else f"still undelivered after {(now() - created).days} days"
                d.state, d.next_try = "dead", None
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
        for d in s.scalars(select(DeliveryRow).where(DeliveryRow.alert_id == alert_id, DeliveryRow.state != "sent")):
            if state == "pending":
                d.attempts, d.next_try = 0, None
                d.last_error = f"retry asked by hand (was {d.state}: {d.last_error or 'no error'})"[:2000]
            else:
                d.last_error = f"dropped by hand (was {d.state}: {d.last_error or 'no error'})"[:2000]
            d.state = state
            changed.append(d.channel)
    return changed


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


# -- the writer lease -----------------------------------------------------------------------------

LEASE = "writer"


def process_owner() -> str:
    """This process, as the lease names it: host, process id and the process's start time (a reused pid is
    another process)."""
    import socket

    return f"{socket.gethostname()}:{os.getpid()}:{_start_time(os.getpid())}"


def _start_time(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return "?"


def _holder_is_dead(owner: str) -> bool:
    """A holder on this host whose process is gone (killed) or whose pid now belongs to another process."""
    import socket

    host, _, rest = owner.partition(":")
    pid, _, started = rest.partition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine's process: only its lease's expiry tells
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass
    return started not in ("?", "") and _start_time(int(pid)) != started


class LeaseHeld(RunError, RuntimeError):
    """Another process holds the store's writer lease; the message names it."""


def acquire_lease(store: Store, owner: str, what: str, ttl: timedelta) -> None:
    """Take the store's one writer lease, or raise LeaseHeld naming the holder. A lease whose holder stopped
    renewing it (expired) or died on this host is taken over. Compare-and-swap on the row: of two processes
    racing for it, exactly one wins, on SQLite as on PostgreSQL."""
    for _ in range(3):
        t = now()
        with store.session() as s:
            row = s.get(WriterLease, LEASE)
            if row is None:
                s.add(WriterLease(name=LEASE, owner=owner, what=what[:64], acquired=t, heartbeat=t, expires=t + ttl))
                try:
                    s.flush()
                except IntegrityError:  # another process inserted it first: look again
                    s.rollback()
                    continue
                return
            seen_owner, seen_beat, holder = row.owner, row.heartbeat, row.what
            if seen_owner != owner and row.expires > t and not _holder_is_dead(seen_owner):
                raise LeaseHeld(f"{holder} on {seen_owner.split(':')[0]}, last seen {seen_beat:%H:%M:%S} UTC")
            won = s.execute(update(WriterLease).where(
                WriterLease.name == LEASE, WriterLease.owner == seen_owner, WriterLease.heartbeat == seen_beat,
            ).values(owner=owner, what=what[:64], acquired=t, heartbeat=t, expires=t + ttl)).rowcount
            if won == 1:
                return
    raise LeaseHeld("another process that is taking it at this moment")


def renew_lease(store: Store, owner: str, ttl: timedelta) -> bool:
    """The holder's heartbeat; False when the lease is no longer this owner's."""
    t = now()
    with store.session() as s:
        return s.execute(update(WriterLease).where(WriterLease.name == LEASE, WriterLease.owner == owner)
                         .values(heartbeat=t, expires=t + ttl)).rowcount == 1


def release_lease(store: Store, owner: str) -> None:
    with store.session() as s:
        s.execute(delete(WriterLease).where(WriterLease.name == LEASE, WriterLease.owner == owner))


# -- what analysts ask: stored judgments, mutes, acknowledgements ---------------------------------

def judgments(store: Store, *, actor: str | None = None, since: date | None = None, until: date | None = None,
              stance: str | None = None) -> list[dict]:
    """Stored judgments with their article, oldest first (undated articles last); filters are inclusive."""
    q = (select(JudgmentRow, ArticleRow.published, ArticleRow.source, ArticleRow.title, ArticleRow.served_url,
                ArticleRow.original_url)
         .join(ArticleRow, ArticleRow.url == JudgmentRow.article_url))
    if actor:
        q = q.where(JudgmentRow.actor == actor)
    if stance:
        q = q.where(JudgmentRow.stance == stance)
    if since:
        q = q.where(ArticleRow.published >= since)
    if until:
        q = q.where(ArticleRow.published <= until)
    q = q.order_by(ArticleRow.published.is_(None), ArticleRow.published, JudgmentRow.actor, ArticleRow.url)
    with store.session() as s:
        rows = s.execute(q).all()
    return [{"url": j.article_url, "link": served or original or j.article_url, "published": pub, "outlet": source or "",
             "title": title or "", "actor": j.actor, "stance": j.stance, "score": j.score, "confidence": j.confidence,
             "evidence": tuple(j.evidence or ())} for j, pub, source, title, served, original in rows]


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
