"""Database faults (locked by another writer, read-only disk, full disk) and a process killed in the middle of
alert delivery: a clear one-line error, no corrupted store, and a rerun that loses nothing and sends nothing twice.

The disks are real: a tmpfs mounted for the test (full: a small one; read-only: remounted `ro`). Mounting needs
root, as in CI's container; elsewhere those two tests are skipped and say why."""
import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from alerts.deliver import parse_channels
from store import repository as repo
from store.models import DeliveryRow
from tests.conftest import POSTGRES_DB, POSTGRES_URL, ROOT, _reset_postgres, wait_for
from tests.test_alerts import Inbox, free_port, make_shift
from tests.test_backfill import dump, write_archive
from tests.test_cli import one_line_error, run


def integrity(path: Path) -> str:
    con = sqlite3.connect(path)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


# -- locked by another writer ---------------------------------------------------------------------------------

def _hold_write_lock(db_url: str):
    """Another program writing to the store: an open transaction holding the write lock."""
    if db_url.startswith("sqlite"):
        con = sqlite3.connect(db_url[len("sqlite:///"):], isolation_level=None)
        con.execute("BEGIN EXCLUSIVE")
        return con
    import psycopg

    con = psycopg.connect(db_url.replace("postgresql+psycopg", "postgresql"))
    con.execute("LOCK TABLE runs, feeds IN ACCESS EXCLUSIVE MODE")
    return con


def test_a_store_locked_by_another_writer_is_a_clear_error_then_works(db_url):
    store = repo.open_store(db_url, busy_timeout_s=0.5)
    first = repo.start_run(store, "monitor")
    holder = _hold_write_lock(db_url)
    try:
        t0 = time.monotonic()
        with pytest.raises(repo.StoreError) as exc:
            repo.start_run(store, "monitor")
        assert time.monotonic() - t0 < 10  # it waited its timeout, not forever
        msg = str(exc.value)
        assert "locked by another writer" in msg and "\n" not in msg
        assert "kstance-test-pw" not in msg
    finally:
        holder.rollback()
        holder.close()
    assert repo.start_run(store, "monitor") == first + 1  # the failed write left no row behind
    store.close()
    if db_url.startswith("sqlite"):
        assert integrity(Path(db_url[len("sqlite:///"):])) == "ok"


def test_a_read_only_postgresql_database_is_a_clear_error_and_nothing_is_written():
    """PostgreSQL's read-only mode, as on a hot standby (SQLite's read-only disk is tested below)."""
    if not POSTGRES_URL:
        pytest.skip("no PostgreSQL server: set KSTANCE_TEST_POSTGRES_URL (.ci/run starts one with .ci/postgres.sh)")
    import psycopg

    _reset_postgres(POSTGRES_URL)
    db_url = POSTGRES_URL
    store = repo.open_store(db_url)
    first = repo.start_run(store, "monitor")
    store.close()
    admin = psycopg.connect(db_url.replace("postgresql+psycopg", "postgresql"), autocommit=True)
    admin.execute(f'ALTER DATABASE "{POSTGRES_DB}" SET default_transaction_read_only = on')
    try:
        store = repo.open_store(db_url)
        with pytest.raises(repo.StoreError, match="read-only") as exc:
            repo.start_run(store, "monitor")
        assert "kstance-test-pw" not in str(exc.value)
        store.close()
    finally:
        admin.execute(f'ALTER DATABASE "{POSTGRES_DB}" RESET default_transaction_read_only')
        admin.close()
    store = repo.open_store(db_url)
    assert repo.start_run(store, "monitor") == first + 1
    store.close()


def test_the_command_line_names_the_lock_and_a_rerun_completes(tmp_path):
    archive = write_archive(tmp_path / "a.jsonl", 12)
    db = tmp_path / "k.db"
    env = {"KSTANCE_DATABASE_URL": f"sqlite:///{db}", "KSTANCE_DB_BUSY_TIMEOUT_S": "1"}
    assert run(["backfill", str(archive)], tmp_path, env).returncode == 0
    before = dump(f"sqlite:///{db}")
    holder = _hold_write_lock(f"sqlite:///{db}")
    try:
        err = one_line_error(run(["backfill", str(archive)], tmp_path, env))
        assert "locked by another writer" in err
    finally:
        holder.rollback()
        holder.close()
    assert integrity(db) == "ok" and dump(f"sqlite:///{db}") == before
    assert run(["backfill", str(archive)], tmp_path, env).returncode == 0


# -- read-only and full disks -----------------------------------------------------------------------------------

class Disk:
    """A real filesystem of a given size, mounted for one test."""

    def __init__(self, where: Path, size: str):
        self.path = where
        where.mkdir()
        proc = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True, text=True
        )
        if proc.returncode != 0:
            pytest.skip(
                f"cannot mount a tmpfs here ({proc.stderr.strip() or 'not root'}): the disk-fault tests need it"
            )

    def remount(self, options: str) -> None:
        subprocess.run(["mount", "-o", f"remount,{options}", str(self.path)], check=True)

    def unmount(self) -> None:
        subprocess.run(["umount", "-l", str(self.path)], check=False)


@pytest.fixture
def disk(tmp_path):
    disks = []

    def make(size: str) -> Disk:
        if os.geteuid() != 0:
            pytest.skip("mounting a tmpfs needs root (CI's container has it): the disk-fault tests are skipped")
        d = Disk(tmp_path / f"disk{len(disks)}", size)
        disks.append(d)
        return d

    yield make
    for d in disks:
        d.unmount()


@pytest.fixture(scope="module")
def clean_backfill(tmp_path_factory):
    """One uninterrupted backfill on an ordinary disk: the store every faulty run must end up equal to."""
    tmp = tmp_path_factory.mktemp("clean")
    archive = write_archive(tmp / "a.jsonl", 60, per_article=10)
    url = f"sqlite:///{tmp / 'clean.db'}"
    proc = run(["backfill", str(archive)], tmp, {"KSTANCE_DATABASE_URL": url})
    assert proc.returncode == 0, proc.stderr
    return archive, dump(url), tmp / "clean.db"


def test_a_full_disk_stops_with_a_clear_error_and_a_rerun_after_freeing_space_completes(tmp_path, disk, clean_backfill):
    archive, expected, clean_db = clean_backfill
    full_size = clean_db.stat().st_size
    d = disk("64m")
    db = d.path / "k.db"
    env = {"KSTANCE_DATABASE_URL": f"sqlite:///{db}"}
    repo.open_store(env["KSTANCE_DATABASE_URL"]).close()  # the schema in place: the backfill's own writes fill it
    schema = sum(f.stat().st_size for f in d.path.iterdir())
    # room for the schema and about a third of the articles: the disk fills in the middle of the backfill
    d.remount(f"size={(schema + (full_size - schema) // 3) // 1024}k")
    err = one_line_error(run(["backfill", str(archive)], tmp_path, env))
    assert "disk is full" in err
    assert integrity(db) == "ok"
    d.remount("size=64m")
    partial = dump(f"sqlite:///{db}")
    assert len(partial["articles"]) < len(expected["articles"])
    proc = run(["backfill", str(archive)], tmp_path, env)
    assert proc.returncode == 0, proc.stderr
    assert dump(f"sqlite:///{db}") == expected


def test_a_new_store_whose_migration_fills_the_disk_opens_whole_after_freeing_space(tmp_path, disk):
    """The schema's migrations are one transaction: a first start that runs out of disk half-way leaves nothing
    half-made (before, SQLite committed each CREATE on its own and the next start failed on "table already
    exists")."""
    ref = tmp_path / "ref.db"
    repo.open_store(f"sqlite:///{ref}").close()
    with sqlite3.connect(ref) as con:
        schema = sorted(con.execute("SELECT type, name, sql FROM sqlite_master").fetchall())
    d = disk(f"{int(ref.stat().st_size * 0.8) // 1024}k")  # room for part of the schema and its write-ahead log
    db = d.path / "k.db"
    with pytest.raises(repo.StoreError) as exc:
        repo.open_store(f"sqlite:///{db}")
    assert "disk is full" in str(exc.value) and "\n" not in str(exc.value)
    d.remount("size=64m")
    repo.open_store(f"sqlite:///{db}").close()  # the rerun migrates from scratch
    assert integrity(db) == "ok"
    with sqlite3.connect(db) as con:
        assert sorted(con.execute("SELECT type, name, sql FROM sqlite_master").fetchall()) == schema


def test_a_read_only_disk_is_refused_before_any_work_and_the_store_is_untouched(tmp_path, disk, clean_backfill):
    _, expected, clean_db = clean_backfill
    d = disk("64m")
    db = d.path / "k.db"
    env = {"KSTANCE_DATABASE_URL": f"sqlite:///{db}"}
    with sqlite3.connect(clean_db) as src, sqlite3.connect(db) as dst:  # the clean backfill's store, on this disk
        src.backup(dst)
    dst.close()
    src.close()
    assert dump(f"sqlite:///{db}") == expected
    d.remount("ro")
    more = write_archive(tmp_path / "more.jsonl", 70, per_article=10)
    err = one_line_error(run(["backfill", str(more)], tmp_path, env))
    assert "read-only disk" in err
    d.remount("rw")
    assert integrity(db) == "ok" and dump(f"sqlite:///{db}") == expected


# -- killed in the middle of alert delivery ----------------------------------------------------------------------

DELIVER = """
import json, sys
from alerts.deliver import parse_channels
from alerts.outbox import deliver_due
from store.repository import open_store
report = deliver_due(open_store(sys.argv[1]), parse_channels(sys.argv[2:]))
print(json.dumps({"sent": report.sent, "unknown": report.unknown, "failed": report.failed}))
"""


class StallingInbox(Inbox):
    """An SMTP server that takes the message numbered `stall_at` and then never answers (the sender is killed)."""

    def __init__(self, stall_at: int):
        super().__init__()
        self.stall_at = stall_at

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        await super().handle_DATA(server, session, envelope)
        if len(self.messages) == self.stall_at:
            await asyncio.sleep(3600)
        return "250 OK"


def _deliver(db_url: str, urls: list[str], **kw):
    return subprocess.Popen([sys.executable, "-c", DELIVER, db_url, *urls], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True, **kw)


def test_a_run_killed_while_sending_loses_no_alert_and_sends_none_twice(tmp_path):
    from aiosmtpd.controller import Controller

    inbox = StallingInbox(stall_at=3)
    port = free_port()
    ctl = Controller(inbox, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        urls = [f"mailto://127.0.0.1:{port}?from=kstance@example.com&to={to}@example.com&mode=insecure"
                for to in ("desk", "night-desk")]
        channels = [c.key for c in parse_channels(urls)]
        db_url = f"sqlite:///{tmp_path / 'k.db'}"
        store = repo.open_store(db_url)
        repo.record_shifts(
            store,
            [make_shift(title=f"Story {a}", actor=a) for a in ("JP", "CN", "KP")],
            historical=False,
            deliver=True,
            channels=channels,
        )
        alerts_before = dump(db_url)["alerts"]
        proc = _deliver(db_url, urls)
        assert wait_for(lambda: len(inbox.messages) == 3, timeout=60), (
            proc.stderr.read() if proc.poll() is not None else ""
        )
        os.killpg(proc.pid, signal.SIGKILL)  # the third message is on the wire, unanswered
        proc.wait()
        with store.session() as s:
            states = sorted(d.state for d in s.scalars(select(DeliveryRow)))
        assert states == ["pending"] * 3 + ["sending"] + ["sent"] * 2
        inbox.stall_at = 0
        rerun = _deliver(db_url, urls)
        out, err = rerun.communicate(timeout=120)
        assert rerun.returncode == 0, err
        report = json.loads(out)
        assert len(report["unknown"]) == 1 and len(report["sent"]) == 3 and not report["failed"]
        # every (alert, channel) reached the server exactly once: 2 before the kill, 1 in flight, 3 after
        seen = [(m["To"], m["Subject"]) for m in inbox.messages]
        assert len(seen) == 6 and len(set(seen)) == 6
        with store.session() as s:
            rows = list(s.scalars(select(DeliveryRow)))
        assert sorted(d.state for d in rows) == ["sent"] * 5 + ["unknown"]
        assert dump(db_url)["alerts"] == alerts_before
        third = _deliver(db_url, urls)
        out, _ = third.communicate(timeout=120)
        assert json.loads(out) == {"sent": [], "unknown": [], "failed": []} and len(inbox.messages) == 6
        store.close()
    finally:
        try:
            ctl.stop()
        except Exception:
            pass
