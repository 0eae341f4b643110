"""Feed state in the store: back-off after failures, disabled after N in a row with the reason, reset on success."""
from datetime import timedelta

from store import repository as repo


def poll(store, ok, error=None):
    return repo.record_poll(store, "https://feed.example/rss", name="Feed", outlet="O", language="en", ok=ok,
                            error=error, etag='"e1"' if ok else None, last_modified=None, items=3 if ok else 0,
                            max_failures=3, base_interval=timedelta(hours=1))


def test_back_off_doubles_and_the_feed_is_disabled_after_n_failures(store):
    gaps = []
    for _ in range(3):
        row = poll(store, False, "HTTP 500")
        gaps.append(row.next_poll - row.last_polled)
    assert gaps == [timedelta(hours=2), timedelta(hours=4), timedelta(hours=8)]
    assert row.disabled and row.disabled_reason == "3 failures in a row; last: HTTP 500"


def test_success_resets_failures_and_keeps_the_validators(store):
    poll(store, False, "timed out after 20 s")
    row = poll(store, True)
    assert row.consecutive_failures == 0 and row.last_error is None and row.etag == '"e1"' and row.items_seen == 3


def test_migrations_create_exactly_the_models_schema(store):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from store.models import Base

    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_opening_twice_is_harmless(db_url):
    repo.open_store(db_url).close()
    s = repo.open_store(db_url)
    assert repo.counts(s)["judgments"] == 0
    s.close()


def test_opening_waits_its_busy_timeout_for_a_first_migration_that_runs_past_five_seconds(tmp_path):
    """Under load a fresh store's first migration ran past the 5 s that Python's sqlite3 waits by default, and the
    other openers failed with "database is locked" in the connection's first pragma, before the store's own
    busy timeout (30 s) applied. Another connection holds the fresh file's write lock for 5.5 s here."""
    import sqlite3
    import threading

    path = tmp_path / "k.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("CREATE TABLE other_writer (a)")
    released = threading.Timer(5.5, lambda: holder.execute("COMMIT"))
    released.start()
    try:
        store = repo.open_store(f"sqlite:///{path}")
        assert repo.counts(store)["judgments"] == 0
        store.close()
    finally:
        released.join()
        holder.close()


def test_threads_opening_one_store_at_once_all_get_it(tmp_path):
    """The monitor's feed tasks run in threads and each opens the store, which migrates it: Alembic's module-level
    context is not thread-safe (KeyError 'script' seen when two threads migrated at once)."""
    import threading

    from store import repository as repo

    def open_close(url, start, errors):
        start.wait()
        try:
            repo.open_store(url).close()
        except Exception as exc:  # the test reports whatever a thread met
            errors.append(repr(exc))

    for round_ in range(3):
        url = f"sqlite:///{tmp_path / f'k{round_}.db'}"
        start, errors = threading.Barrier(8), []
        threads = [threading.Thread(target=open_close, args=(url, start, errors)) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert errors == []
