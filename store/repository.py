"""The repository: every read and write the flows make, in small transactions, idempotent by key.

The functions live in modules by subject (engine: opening the store and its transactions; articles; feeds;
deliveries: alerts, outbox rows and mutes; runs; lease: the writer lease; queries: series, tables, counts). This
module names them all in one place, so `from store import repository as repo` keeps reading `repo.open_store`."""
from __future__ import annotations

from store.articles import (
    ArticleLink,
    PageRetryPolicy,
    article_links,
    dedup_index,
    due_page_retries,
    existing_urls,
    link_of,
    save_article,
    save_judgments,
)
from store.deliveries import (
    ack_alert,
    alerts,
    clear_mute,
    due_deliveries,
    ensure_deliveries,
    expire_deliveries,
    mark_delivery,
    muted_actors,
    mutes,
    record_shifts,
    resolve_alert_id,
    set_deliveries,
    set_mute,
    shift_from_row,
)
from store.engine import Store, StoreError, describe_db_error, mask_url, migrate, now, open_store
from store.feeds import all_feeds, apply_poll, record_poll, reset_feed
from store.lease import LEASE, LeaseHeld, acquire_lease, process_owner, release_lease, renew_lease
from store.queries import articles_per_origin, counts, judgments, series, stance_table
from store.runs import finish_run, last_runs, start_run

__all__ = [
    "ArticleLink", "LEASE", "LeaseHeld", "PageRetryPolicy", "Store", "StoreError", "ack_alert", "acquire_lease",
    "alerts", "all_feeds", "apply_poll", "article_links", "articles_per_origin", "clear_mute", "counts",
    "dedup_index", "describe_db_error", "due_deliveries", "due_page_retries", "ensure_deliveries", "existing_urls",
    "expire_deliveries", "finish_run", "judgments", "last_runs", "link_of", "mark_delivery", "mask_url", "migrate",
    "muted_actors", "mutes", "now", "open_store", "process_owner", "record_poll", "record_shifts", "release_lease",
    "renew_lease", "reset_feed", "resolve_alert_id", "save_article", "save_judgments", "series", "set_deliveries",
    "set_mute", "shift_from_row", "stance_table", "start_run",
]
