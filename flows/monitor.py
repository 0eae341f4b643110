"""The daily monitoring cycle: poll feeds, extract, judge, store, detect shifts, alert."""
from __future__ import annotations

from datetime import date

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.tasks import exponential_backoff
from pydantic import ValidationError

from alerts.deliver import parse_channels
from classifiers.shifts import DetectorConfig
from extractors.collect import FeedCollection, HostPacer, PageRetry, RobotsRules, collect_feed, refetch_pages
from flows import artifacts
from flows.lock import store_lock
from flows.progress import say
from flows.settings import Settings, load_settings, read_feed_list
from pipeline.alerting import detect_shifts, record_and_deliver
from pipeline.batch import BatchSummary, process_articles
from pipeline.config import DeliveryPolicy
from pipeline.cycle import CycleSteps, run_cycle
from pipeline.model import artifact_meta, get_model
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
                            is_known=lambda urls: repo.existing_urls(store, urls, retry="due"),
                            outlet=feed.get("outlet", ""), allow_private=allow_private, pacer=pacer, robots=robots,
                            timeout=timeout)
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


@task(name="detect-and-alert", cache_policy=NO_CACHE, retries=2,
      retry_delay_seconds=exponential_backoff(backoff_factor=10))
def detect_and_alert_task(store, detector: DetectorConfig, artifact, policy: DeliveryPolicy, channels, reference,
                          today: date, deliver: bool):
    shifts = detect_shifts(store, detector, reference, artifact)
    return shifts, *record_and_deliver(store, policy, channels, shifts, backfill=False, today=today, deliver=deliver)


@flow(name="monitor", log_prints=False, validate_parameters=False,
      task_runner=ThreadPoolTaskRunner(max_workers=_max_workers()))
def monitor(today: str | None = None, deliver: bool = True, settings: dict | None = None) -> dict:
    """One cycle over the configured feeds. A failing feed is recorded and skipped; the cycle goes on.
    With deliver=False, new alerts are recorded in the outbox and left for the next run to send.
    `settings`: overrides of the configured settings (names as in Settings), for a caller that runs the flow with
    settings of its own (the demo, the benchmarks); a deployment passes none."""
    cfg = load_settings(**(settings or {}))
    # the store's writer lease, here too (not only in the command line): a scheduled run is a writer like any other
    with store_lock(cfg.home, cfg.db_url, "run", cfg.db_busy_timeout_s):
        return _cycle(cfg, today, deliver)


def _cycle(settings: Settings, today: str | None, deliver: bool) -> dict:
    day = date.fromisoformat(today) if today else date.today()
    store = settings.open_store()
    channels = parse_channels(settings.alert_urls)
    feeds = read_feed_list(settings.feeds)
    reference = artifact_meta(settings.model_artifact).get("reference_profile", {})  # no model loaded for this
    pacer, robots = HostPacer(settings.politeness_delay_s), RobotsRules()
    spec, retry = settings.classifier_spec(), settings.page_retry_policy()
    steps = CycleSteps(
        collect=lambda feed, st: collect_feed_task.submit(
            feed, st.etag if st else None, st.last_modified if st else None, settings.db_url,
            settings.allow_private_addresses, pacer, robots, settings.request_timeout_s),
        # the model is loaded only when a feed brings something to judge: a cycle with nothing new never loads it
        judge=lambda articles, origin, dedup, also: judge_batch_task(store, get_model(spec), articles, origin, dedup,
                                                                     also=also, retry=retry),
        refetch=lambda pages: refetch_task(pages, settings.allow_private_addresses, pacer, robots,
                                           settings.request_timeout_s),
        detect_and_alert=lambda: detect_and_alert_task(store, settings.detector_config(), settings.model_artifact,
                                                       settings.delivery_policy(), channels, reference, day, deliver),
        say=say)
    outcome = run_cycle(store, feeds, settings.cycle_config(), steps, reference=reference,
                        report_dir=settings.home / "report")
    artifacts.publish_monitor(store, reference, outcome.new_articles, outcome.new_total,
                              outcome.result["new_alerts"], outcome.report)
    store.close()
    return outcome.result
