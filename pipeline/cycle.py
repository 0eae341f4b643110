"""The monitoring cycle's policy, free of Prefect: which feeds are due and which wait (disabled, backing off), what
each poll records, the pages fetched again, and the cycle's result and report. The work itself (collecting a feed,
judging a batch, fetching pages again, detecting and alerting) comes in as `CycleSteps`, so a flow can run each step
as a task on its task runner."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable, Iterator

from alerts.outbox import DeliveryReport
from classifiers.shifts import Shift
from extractors.article import Article
from extractors.collect import FeedCollection, PageRetry
from extractors.dedup import Deduplicator
from pipeline.batch import BatchSummary, load_deduplicator
from reports.html import write_report
from store import repository as repo

FEED_BACKOFF_BASE = timedelta(hours=1)  # a failing feed waits 1 h, 2 h, 4 h, ...
ARTIFACT_ARTICLES = 100  # the run's artifact lists the first 100 new articles


@dataclass(frozen=True)
class CycleConfig:
    max_feed_failures: int = 5  # then the feed is disabled
    window: int = 8  # feeds collected ahead of the judging: memory holds at most this many feeds' articles


@dataclass
class CycleSteps:
    """The cycle's work. `collect` returns a handle whose `result()` is the feed's FeedCollection (a future, so
    feeds are collected while earlier ones are judged); `judge` screens, judges and stores one batch, `also`
    writing in the same transaction; `detect_and_alert` returns (shifts, new alert ids, delivery report)."""

    collect: Callable[[dict, Any], Any]
    judge: Callable[[list[Article], str, Deduplicator, Callable | None], BatchSummary]
    refetch: Callable[[list[PageRetry]], list[Article]]
    detect_and_alert: Callable[[], tuple[list[Shift], list[str], DeliveryReport]]
    say: Callable[[str], None] = lambda line: None


@dataclass
class CycleOutcome:
    result: dict  # what the run records and the command line prints
    new_articles: list[Article] = field(default_factory=list)  # the first ARTIFACT_ARTICLES, bodies dropped
    new_total: int = 0
    report: Path | None = None


def plan_polls(feeds: list[dict], states: dict, now) -> tuple[list[tuple[dict, Any]], list[dict]]:
    """The feeds due now, with their stored state, and one line for each feed that waits."""
    due, lines = [], []
    for feed in feeds:
        st = states.get(feed["url"])
        if st is not None and st.disabled:
            lines.append({"feed": feed["name"], "url": feed["url"], "status": "disabled", "error": st.disabled_reason})
            continue
        if st is not None and st.consecutive_failures and st.next_poll and st.next_poll > now:
            # a failing feed backs off (1 h, 2 h, 4 h, ...); a healthy one is polled every run (conditional GET is
            # cheap)
            lines.append({"feed": feed["name"], "url": feed["url"], "status": "backing off",
                          "error": f"{st.consecutive_failures} failures; "
                                   f"next try after {st.next_poll:%Y-%m-%d %H:%M} UTC"})
            continue
        due.append((feed, st))
    return due, lines


def poll_record(feed: dict, got: FeedCollection | None, error: str | None, max_failures: int) -> tuple[dict, dict]:
    """What one poll stores for its feed (repo.record_poll / apply_poll keywords) and the cycle's line for it."""
    items = len(got.articles) if got else 0
    state = dict(name=feed["name"], outlet=feed.get("outlet", ""), language=feed.get("language"), ok=error is None,
                 error=error, etag=got.poll.etag if got else None,
                 last_modified=got.poll.last_modified if got else None, items=items, max_failures=max_failures,
                 base_interval=FEED_BACKOFF_BASE)
    status = "error" if error else ("not modified" if got.poll.not_modified else "ok")
    line = {"feed": feed["name"], "url": feed["url"], "status": status, "error": error, "new": items,
            "seen": got.seen if got else 0}
    return state, line


def collected(handle) -> tuple[FeedCollection | None, str | None]:
    """A collection and its error; a collection that itself failed (timeout, crash) is the feed's error."""
    try:
        got: FeedCollection = handle.result()
        return got, got.poll.error
    except Exception as exc:  # the task itself failed: the feed is failing, the cycle goes on
        return None, f"{type(exc).__name__}: {str(exc)[:200]}"


class _Cycle:
    """One cycle's running state: the summary, the new articles, the deduplicator, the pages collected."""

    def __init__(self, store: repo.Store, cfg: CycleConfig, steps: CycleSteps):
        self.store, self.cfg, self.steps = store, cfg, steps
        self.summary = BatchSummary()
        self.outcome = CycleOutcome({})
        self.collected: set[str] = set()
        self.dedup: Deduplicator | None = None

    def collect_all(self, due: list[tuple[dict, Any]], lines: list[dict]) -> None:
        """Feeds collected a few at a time ahead of the judging: memory holds at most `window` feeds' articles,
        however many feeds are configured (200 feeds x 50 items: see BENCHMARKS.md, "load")."""
        queue: Iterator = iter(due)
        pending: deque = deque()

        def submit_next() -> None:
            for feed, st in queue:
                pending.append((feed, self.steps.collect(feed, st)))
                return

        for _ in range(self.cfg.window):
            submit_next()
        # chosen before this cycle's collection: a page that fails now is retried on a later run, not at once
        self.due_pages = [PageRetry(url, original or url, title or "", source or "", origin)
                          for url, original, title, source, origin in repo.due_page_retries(self.store)]
        self.dedup = load_deduplicator(self.store)
        done = 0
        while pending:
            feed, handle = pending.popleft()
            submit_next()
            done += 1
            lines.append(self.take(feed, handle, done, len(due)))

    def take(self, feed: dict, handle, done: int, due: int) -> dict:
        """One feed's collection: recorded with its poll, its articles judged and stored with the poll's validators."""
        got, error = collected(handle)
        state, line = poll_record(feed, got, error, self.cfg.max_feed_failures)
        items = line["new"]
        self.steps.say(f"[{done}/{due}] {feed['name']}: " + (f"error: {error}" if error else line["status"]
                                                             if not items else f"{items} new, judging"))
        self.collected.update(a.url for a in (got.articles if got else []))
        if not (got and got.articles):
            repo.record_poll(self.store, feed["url"], **state)
            return line
        # the validators are committed with the articles they cover, in one transaction: a run killed or
        # failing before that leaves the old validators, and the next run gets the feed (not a 304) again
        self.summary.merge(self.steps.judge(got.articles, feed["url"], self.dedup,
                                            lambda s, url=feed["url"], st=state: repo.apply_poll(s, url, **st)))
        self.add_new(got.articles)
        return line

    def add_new(self, articles: list[Article]) -> None:
        self.outcome.new_total += len(articles)
        # the run's artifact lists the first 100; their bodies are not kept (memory stays per feed)
        room = max(0, ARTIFACT_ARTICLES - len(self.outcome.new_articles))
        self.outcome.new_articles += [replace(a, text="") for a in articles[:room]]

    def refetch_due(self) -> None:
        """Pages that failed transiently on earlier runs, due again (their feed may well answer 304 by now); not
        those this cycle fetched already through their feed."""
        pages = [p for p in self.due_pages if p.url not in self.collected]
        if not pages:
            return
        self.steps.say(f"fetching again {len(pages)} page(s) that failed for a passing reason on an earlier run")
        origins = {p.url: p.origin or "" for p in pages}
        by_origin: dict[str, list] = {}
        for a in self.steps.refetch(pages):
            self.dedup.seen_urls.discard(a.url)  # the stored copy is the failed one: this one replaces it
            by_origin.setdefault(origins.get(a.url, ""), []).append(a)
        for origin, arts in by_origin.items():
            self.summary.merge(self.steps.judge(arts, origin, self.dedup, None))
            self.outcome.new_total += len(arts)


def run_cycle(store: repo.Store, feeds: list[dict], cfg: CycleConfig, steps: CycleSteps, *, reference: dict,
              report_dir: Path) -> CycleOutcome:
    """One monitoring cycle over `feeds`: recorded as a run, its result composed, the HTML report written."""
    run_id = repo.start_run(store, "monitor")
    due, lines = plan_polls(feeds, {f.url: f for f in repo.all_feeds(store)}, repo.now())
    waiting = len(feeds) - len(due)
    steps.say(f"polling {len(due)} of {len(feeds)} feeds" + (f" ({waiting} disabled or backing off: `kstance feeds`)"
                                                             if waiting else ""))
    cycle = _Cycle(store, cfg, steps)
    cycle.collect_all(due, lines)
    cycle.refetch_due()
    shifts, new_alerts, delivery = steps.detect_and_alert()
    result = {
        "kind": "monitor", "feeds": lines, **cycle.summary.as_dict(), "shifts": len(shifts), "new_alerts": new_alerts,
        "delivered": len(delivery.sent),
        "delivery_failures": [f"{c}: {e}" for _, c, e in delivery.failed + delivery.dead],
        "delivery_unknown": [f"{c}: alert {a}" for a, c in delivery.unknown],
    }
    repo.finish_run(store, run_id, result)
    cycle.outcome.result = result
    cycle.outcome.report = write_report(store, report_dir, reference)
    return cycle.outcome
