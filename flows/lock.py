"""One writer run (run, backfill, demo) per store at a time: a second one refuses with a clear message.

An flock on a file under KSTANCE_HOME named after the store's URL: the kernel drops it when the process dies,
so a killed run never leaves a stale lock behind. On PostgreSQL, a session advisory lock makes the same promise
across machines."""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from pathlib import Path


class StoreBusy(RuntimeError):
    pass


@contextlib.contextmanager
def store_lock(home: Path, db_url: str, what: str):
    home.mkdir(parents=True, exist_ok=True)
    path = home / f".lock-{hashlib.sha256(db_url.encode()).hexdigest()[:12]}"
    fh = open(path, "a+")
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise StoreBusy(f"the store is in use by {holder}; wait for it to finish, then run `kstance {what}` again") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"kstance {what} (pid {os.getpid()})")
        fh.flush()
        with _pg_advisory(db_url, what):
            yield
    finally:
        fh.close()


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
