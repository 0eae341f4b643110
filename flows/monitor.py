"""The daily monitoring cycle: poll feeds, extract, judge, store, detect shifts, alert."""
from __future__ import annotations

from collections import deque
from dataclasses import replace
from datetime import date, timedelta

from prefect import flow, task
from pydantic import ValidationError
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.tasks import exponential_backoff

from alerts.deliver import parse_channels
from extractors.collect import FeedCollection, HostPacer, PageRetry, RobotsRules, collect_feed, refetch_pages
from flows import artifacts
from flows.pipeline import (
    BatchSummary, artifact_meta, detect_shifts, get_model, load_deduplicator, process_articles, record_and_deliver,
)
from flows.lock import store_lock
from flows.progress import say
from flows.settings import Settings, load_settings, read_feed_list
from reports.html import write_report
from store import repository as repo


def _max_workers() -> int:
    """KSTANCE_MAX_CONCURRENT_REQUESTS, read when this module is imported: `kstance serve` runs each scheduled
    cycle in a fresh process that imports the flow from here, so the decorator's task runner must follow the
    setting (`kstance run` sets the runner itself). Bad settings are reported by the flow, not at import."""
    try:
        return max(1, Settings().max_concurrent_requests)  # Settings() itself: no folder made at import
    except (ValidationError, ValueError, OSError):
        return 4


@task(name="collect-feed", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=exponential_backoff(backoff_factor=5),
      timeout_seconds=900)
def collect_feed_task(feed: dict, etag: str | None, last_modified: str | None, db_url: str,
                      allow_private: bool, pacer: HostPacer, robots: RobotsRules, timeout: float) -> FeedCollection:
    store = repo.open_store(db_url)
    try:
        # a page waiting to be fetched again after a transient failure is not "known" once it is due
        return collect_feed(feed["url"], etag=etag, last_modified=last_modified,
                            is_known=lambda urls: repo.existing_urls(store, urls, retry="due"), outlet=feed.get("outlet", ""),
                            allow_private=allow_private, pacer=pacer, robots=robots, timeout=timeout)
    finally:
        store.close()


@task(name="judge-batch", cache_policy=NO_CACHE)
def judge_batch_task(store, model, articles, origin: str, dedup, also=None, retry=None) -> BatchSummary:
    return process_articles(store, model, articles, origin=origin, dedup=dedup, also=also,
                            retry=retry or repo.PageRetryPolicy())


@task(name="refetch-pages", cache_policy=NO_CACHE, timeout_seconds=900)
def refetch_task(pages: list[PageRetry], allow_private: bool, pacer: HostPacer, robots: RobotsRules,
                 timeout: float) -> list:
    return refetch_pages(pages, allow_private=allow_private, pacer=pacer, robots=robots, timeout=timeout)


@task(name="detect-and-alert", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=exponential_backoff(backoff_factor=10))
def detect_and_alert_task(store, settings, channels, reference, today: date, deliver: bool):
    shifts = detect_shifts(store, settings, reference)
    return shifts, *record_and_deliver(store, settings, channels, shifts, backfill=False, today=today, deliver=deliver)


@flow(name="monitor", log_prints=False, validate_parameters=False,
      task_runner=ThreadPoolTaskRunner(max_workers=_max_workers()))
def monitor(today: str | None = None, deliver: bool = True) -> dict:
    """One cycle over the configured feeds. A failing feed is recorded and skipped; the cycle goes on.
    With deliver=False, new alerts are recorded in the outbox and left for the next run to send."""
    settings = load_settings()
    # the store's writer lease, here too (not only in the command line): a scheduled run is a writer like any other
    with store_lock(settings.home, settings.db_url, "run", settings.db_busy_timeout_s):
        return _cycle(settings, today, deliver)


def _cycle(settings, today: str | None, deliver: bool) -> dict:
    day = date.fromisoformat(today) if today else date.today()
    store = settings.open_store()
    channels = parse_channels(settings.alert_urls)
    feeds = read_feed_list(settings.feeds)
    meta = artifact_meta(settings)  # the model itself is loaded only when a feed brings something to judge
    run_id = repo.start_run(store, "monitor")
    pacer, robots = HostPacer(settings.politeness_delay_s), RobotsRules()
    states = {f.url: f for f in repo.all_feeds(store)}
    due, feed_lines = [], []
    for feed in feeds:
        st = states.get(feed["url"])
        if st is not None and st.disabled:
            feed_lines.append({"feed": feed["name"], "url": feed["url"], "status": "disabled", "error": st.disabled_reason})
            continue
        if st is not None and st.consecutive_failures and st.next_poll and st.next_poll > repo.now():
            # a failing feed backs off (1 h, 2 h, 4 h, ...); a healthy one is polled every run (conditional GET is cheap)
            feed_lines.append({"feed": feed["name"], "url": feed["url"], "status": "backing off",
                               "error": f"{st.consecutive_failures} failures; next try after {st.next_poll:%Y-%m-%d %H:%M} UTC"})
            continue
        due.append((feed, st))
    waiting = len(feeds) - len(due)
    say(f"polling {len(due)} of {len(feeds)} feeds" + (f" ({waiting} disabled or backing off: `kstance feeds`)"
                                                         if waiting else ""))
    # Feeds are collected a few at a time ahead of the judging: memory holds at most `window` feeds' articles,
    # however many feeds are configured (200 feeds x 50 items: see BENCHMARKS.md, "load").
    window = max(2, 2 * settings.max_concurrent_requests)
    queue, pending = iter(due), deque()

    def submit_next() -> None:
        for feed, st in queue:
            pending.append((feed, collect_feed_task.submit(
                feed, st.etag if st else None, st.last_modified if st else None, settings.db_url,
                settings.allow_private_addresses, pacer, robots, settings.request_timeout_s)))
            return

    for _ in range(window):
        submit_next()
    # chosen before this cycle's collection: a page that fails now is retried on a later run, not at once
    due_pages = [PageRetry(url, original or url, title or "", source or "", origin)
                 for url, original, title, source, origin in repo.due_page_retries(store)]
    collected: set[str] = set()
    dedup = load_deduplicator(store)
    retry = repo.PageRetryPolicy(settings.page_retry_limit, timedelta(seconds=settings.page_retry_delay_s))
    summary = BatchSummary()
    new_articles, new_total = [], 0
    done = 0
    while pending:
        feed, fut = pending.popleft()
        submit_next()
        try:
            got: FeedCollection = fut.result()
            error = got.poll.error
        except Exception as exc:  # the task itself failed (timeout, crash): the feed is failing, the cycle goes on
            got, error = None, f"{type(exc).__name__}: {str(exc)[:200]}"
        items = len(got.articles) if got else 0
        poll_state = dict(name=feed["name"], outlet=feed.get("outlet", ""),
                          language=feed.get("language"), ok=error is None, error=error,
                          etag=got.poll.etag if got else None, last_modified=got.poll.last_modified if got else None,
                          items=items, max_failures=settings.max_feed_failures, base_interval=timedelta(hours=1))
        status = "error" if error else ("not modified" if got.poll.not_modified else "ok")
        feed_lines.append({"feed": feed["name"], "url": feed["url"], "status": status, "error": error,
                           "new": items, "seen": got.seen if got else 0})
        done += 1
        say(f"[{done}/{len(due)}] {feed['name']}: " + (f"error: {error}" if error else status if not items
                                                        else f"{items} new, judging"))
        collected.update(a.url for a in (got.articles if got else []))
        if not (got and got.articles):
            repo.record_poll(store, feed["url"], **poll_state)
        else:
            model = get_model(settings)  # loaded only now: a cycle with nothing new never loads it
            # the validators are committed with the articles they cover, in one transaction: a run killed or
            # failing before that leaves the old validators, and the next run gets the feed (not a 304) again
            batch = judge_batch_task(store, model, got.articles, feed["url"], dedup,
                                     also=lambda s, url=feed["url"], st=poll_state: repo.apply_poll(s, url, **st),
                                     retry=retry)
            summary.merge(batch)
            new_total += len(got.articles)
            # the run's artifact lists the first 100; their bodies are not kept (memory stays per feed)
            new_articles += [replace(a, text="") for a in got.articles[: max(0, 100 - len(new_articles))]]
    # pages that failed transiently on earlier runs, due again (their feed may well answer 304 by now); not those
    # this cycle fetched already through their feed
    due_pages = [p for p in due_pages if p.url not in collected]
    if due_pages:
        say(f"fetching again {len(due_pages)} page(s) that failed for a passing reason on an earlier run")
        refetched = refetch_task(due_pages, settings.allow_private_addresses, pacer, robots, settings.request_timeout_s)
        by_origin: dict[str, list] = {}
        origins = {p.url: p.origin or "" for p in due_pages}
        for a in refetched:
            dedup.seen_urls.discard(a.url)  # the stored copy is the failed one: this one replaces it
            by_origin.setdefault(origins.get(a.url, ""), []).append(a)
        if by_origin:
            model = get_model(settings)
        for origin, arts in by_origin.items():
            summary.merge(judge_batch_task(store, model, arts, origin, dedup, retry=retry))
            new_total += len(arts)
    reference = meta.get("reference_profile", {})
    shifts, new_alerts, delivery = detect_and_alert_task(store, settings, channels, reference, day, deliver)
    result = {
        "kind": "monitor", "feeds": feed_lines, **summary.as_dict(), "shifts": len(shifts), "new_alerts": new_alerts,
        "delivered": len(delivery.sent), "delivery_failures": [f"{c}: {e}" for _, c, e in delivery.failed + delivery.dead],
        "delivery_unknown": [f"{c}: alert {a}" for a, c in delivery.unknown],
    }
    repo.finish_run(store, run_id, result)
    report = write_report(store, settings.home / "report", reference)
    artifacts.publish_monitor(store, reference, new_articles, new_total, new_alerts, report)
    store.close()
    return result
