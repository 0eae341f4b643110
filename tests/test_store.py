"""Feed state in the store: back-off after failures, disabled after N in a row with the reason, reset on success."""
from datetime import timedelta

import pytest

from store import repository as repo


@pytest.fixture
def store(tmp_path):
    s = repo.open_store(f"sqlite:///{tmp_path / 'k.db'}")
    yield s
    s.close()


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
