"""The store itself: opening it (engine, SQLite pragmas, migrations), one transaction at a time, and what a
database fault means for the user."""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import InternalError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from extractors import redact
from extractors.redact import scrub
from vocab.errors import RunError


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
    return redact.mask_url(url)


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
        elif sa_url.get_backend_name() == "sqlite":
            # the wait for a lock from the connection's first statement: the pragmas below run before any
            # PRAGMA busy_timeout could, and Python's sqlite3 would give them its own 5 s (a fresh store whose first
            # migration ran longer than that, under load, failed the other openers with "database is locked")
            connect_args["timeout"] = busy_timeout_s
        engine = create_engine(url, pool_pre_ping=True, future=True, connect_args=connect_args)
    except Exception as exc:
        raise StoreError(f"bad database URL {mask_url(url)}: {scrub(str(exc), url)}") from None
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # WAL: readers do not block the writer
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
            cur.execute("PRAGMA journal_mode=WAL")
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
        said = scrub(describe_db_error(None, exc), url)
        raise StoreError(f"cannot open the store at {mask_url(url)}: {said}") from None
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


# Alembic keeps its running context in module globals: two threads migrating at once (the monitor's feed tasks each
# open the store) trip over each other's (KeyError 'script'). And SQLite answers "database is locked" at once, without
# waiting out the busy timeout, to a connection of this process that meets another thread's first connection or
# migration of the same fresh file half-way (3 of 12 runs of the eight-thread test). One open at a time per process:
# its first connection, the revision check and any migration; other processes take turns through the busy timeout.
_MIGRATING = threading.Lock()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (Alembic, store/migrations). Safe to run at every start, from any
    thread. A store already at the newest revision is only read (a reader never waits for another process's
    writing run)."""
    with _MIGRATING:
        _migrate(engine)


def _migrate(engine: Engine) -> None:
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    if current == set(ScriptDirectory.from_config(cfg).get_heads()):
        return
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            # Python's sqlite3 opens a transaction only before INSERT/UPDATE/DELETE: left to it, each CREATE and
            # ALTER of the migrations commits on its own, and a first start that fails half-way (a full disk, a
            # kill) leaves tables without their revision, which every later start trips over ("table alerts
            # already exists"). One explicit transaction makes the whole upgrade commit or roll back as one (and
            # two processes upgrading at once take turns: the second finds the newest revision).
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")  # one chain: 0001 -> 0002 (integrity) -> 0002_i16 -> 0003 (detector fields)
