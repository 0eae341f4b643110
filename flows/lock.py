"""One writer run (run, backfill, demo) per store at a time: a second one refuses with a clear message.

Enforced by the store itself, so that neither KSTANCE_HOME nor the URL's spelling (`sqlite:////a/./k.db`,
a symlink, another machine) can let a second writer in: a lease row in the database (store.repository:
owner, heartbeat, expiry), renewed by a heartbeat thread while the run lasts. A holder killed on this host
(SIGKILL) is recognised at once by its process id and start time; one on another host once its lease expires.
On PostgreSQL, a session advisory lock is held as well (the server drops it when the connection dies)."""
from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
from datetime import timedelta
from pathlib import Path

from vocab.errors import RunError

log = logging.getLogger(__name__)

LEASE_TTL = timedelta(seconds=90)
HEARTBEAT_S = 20.0


class StoreBusy(RunError, RuntimeError):
    retryable = True


_held: dict[str, int] = {}  # lease holders in this process, by store URL: nested store_lock calls share one lease
_held_what: dict[str, str] = {}  # ... for the same command only (a `run` inside a `run`): another one is refused
_held_lock = threading.Lock()


@contextlib.contextmanager
def store_lock(home: Path, db_url: str, what: str, busy_timeout_s: float = 30.0):
    """Hold the store's writer lease for the block. `home` is kept for the callers' sake: the lease lives in the
    store, not under a home."""
    from store import repository as repo

    try:  # the home the store lives in by default (settings make it; a caller holding the lock first may not have)
        Path(home).mkdir(parents=True, exist_ok=True)
    except (OSError, TypeError):
        pass  # a read-only or odd home: open_store says what is wrong with the store itself
    store = repo.open_store(db_url, busy_timeout_s)
    owner = repo.process_owner()
    with _held_lock:
        nested = _held.get(db_url, 0) > 0
        if nested and _held_what.get(db_url) != what:
            other = _held_what.get(db_url)
            store.close()
            raise StoreBusy(f"the store is in use by kstance {other} (pid {os.getpid()}); wait for it to finish, "
                            f"then run `kstance {what}` again")
        _held[db_url] = _held.get(db_url, 0) + 1
        _held_what[db_url] = what
    stop = threading.Event()
    beat = None
    try:
        if not nested:
            try:
                repo.acquire_lease(store, owner, f"kstance {what} (pid {owner.split(':')[1]})", LEASE_TTL)
            except repo.LeaseHeld as exc:
                raise StoreBusy(f"the store is in use by {exc}; wait for it to finish, then run `kstance {what}` "
                                "again") from None
            beat = threading.Thread(target=_heartbeat, args=(store, owner, stop), name="kstance-lease", daemon=True)
            beat.start()
        with _pg_advisory(db_url, what) if not nested else contextlib.nullcontext():
            yield
    finally:
        stop.set()
        if beat is not None:
            beat.join(timeout=5)
        with _held_lock:
            _held[db_url] -= 1
            last = _held[db_url] == 0
        if last and beat is not None:
            try:
                repo.release_lease(store, owner)
            except Exception as exc:  # a locked or vanished store: the lease expires, or the next run sees us gone
                log.debug("could not release the store's writer lease: %s", exc)
        store.close()


def _heartbeat(store, owner: str, stop: threading.Event) -> None:
    from store import repository as repo

    while not stop.wait(HEARTBEAT_S):
        try:
            if not repo.renew_lease(store, owner, LEASE_TTL):
                log.error("the store's writer lease was taken over by another process")
                return
        except Exception as exc:  # a locked or unreachable store: try again at the next beat
            log.debug("could not renew the store's writer lease: %s", exc)


@contextlib.contextmanager
def _pg_advisory(db_url: str, what: str):
    if not db_url.startswith("postgresql"):
        yield
        return
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    key = int(hashlib.sha256(b"kstance-writer").hexdigest()[:15], 16)
    with engine.connect() as conn:
        if not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
            raise StoreBusy(f"another kstance run holds this PostgreSQL store; `kstance {what}` refused")
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
    engine.dispose()
