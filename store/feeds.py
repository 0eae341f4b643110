"""Feeds: each one's state after a poll (validators, failures, back-off, disabled) and resetting it."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.engine import Store, now
from store.models import FeedRow
from vocab.rules import backoff


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
        row.next_poll = t + backoff(base_interval, row.consecutive_failures, cap=32)
        if row.consecutive_failures >= max_failures:
            row.disabled = True
            row.disabled_reason = f"{row.consecutive_failures} failures in a row; last: {error}"
    return row


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
