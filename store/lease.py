"""The store's one writer lease: who writes, renewed by a heartbeat, taken over from a dead or silent holder."""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from store.engine import Store, now
from store.models import WriterLease
from vocab.errors import RunError

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
