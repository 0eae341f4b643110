"""Backfills: archives replayed through the same pipeline as the daily runs, in publication order."""
from __future__ import annotations

from datetime import date
from itertools import islice
from typing import Callable, Iterator

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from alerts.deliver import parse_channels
from extractors.archives import ArchiveProblem, archive_kind, read_archive
from extractors.article import Article
from flows import artifacts
from flows.pipeline import BatchSummary, detect_shifts, get_model, load_deduplicator, process_articles, record_and_deliver
from flows.settings import load_settings
from store import repository as repo

BATCH = 64

# Set by the command line to draw a progress bar: called with (articles read so far, problems so far).
progress_hook: Callable[[int, int], None] | None = None


def _batches(sources: list[str], since: date | None, until: date | None, summary: BatchSummary,
             problems: list[str]) -> Iterator[tuple[str, list[Article]]]:
    for src in sources:
        batch: list[Article] = []
        for item in read_archive(src):
            if isinstance(item, ArchiveProblem):
                problems.append(f"{item.where}: {item.reason}")
                continue
            if (since and item.published and item.published < since) or (until and item.published and item.published > until):
                summary.skip("outside --since/--until")
                summary.read += 1
                continue
            batch.append(item)
            if len(batch) >= BATCH:
                yield src, batch
                batch = []
        if batch:
            yield src, batch


@task(name="judge-batch", cache_policy=NO_CACHE)
def judge_batch_task(store, model, articles, origin: str, dedup) -> BatchSummary:
    return process_articles(store, model, articles, origin=origin, dedup=dedup)


@flow(name="backfill", log_prints=False, validate_parameters=False)
def backfill(sources: list[str], since: str | None = None, until: str | None = None,
             deliver_alerts: bool = False) -> dict:
    settings = load_settings()
    for src in sources:
        archive_kind(__import__("pathlib").Path(src))  # fail early, naming the source
    store = repo.open_store(settings.db_url)
    channels = parse_channels(settings.alert_urls)
    model = get_model(settings)
    run_id = repo.start_run(store, "backfill")
    dedup = load_deduplicator(store)
    summary = BatchSummary()
    problems: list[str] = []
    d_since = date.fromisoformat(since) if since else None
    d_until = date.fromisoformat(until) if until else None
    for src, batch in _batches(sources, d_since, d_until, summary, problems):
        summary.merge(judge_batch_task(store, model, batch, src, dedup))
        if progress_hook:
            progress_hook(summary.read, len(problems))
    reference = model.meta.get("reference_profile", {})
    shifts = detect_shifts(store, settings, reference)
    new_alerts, delivery = record_and_deliver(store, settings, channels, shifts, backfill=True,
                                              deliver_historical=deliver_alerts)
    result = {"kind": "backfill", "sources": sources, **summary.as_dict(), "problems": problems[:50],
              "problem_count": len(problems), "shifts": len(shifts), "new_alerts": new_alerts,
              "delivered": len(delivery.sent)}
    repo.finish_run(store, run_id, result)
    artifacts.publish_backfill({k: v for k, v in result.items() if k not in ("problems",)})
    store.close()
    return result
