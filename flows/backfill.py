"""Backfills: archives replayed through the same pipeline as the daily runs.

Screening (dedup, language, relevance) and persistence run in the flow's process, in archive order, so the
result does not depend on how many workers judged the batches; only the classifier calls go to the task
runner: in this process by default, or on Dask workers (--workers N, --dask ADDRESS), each loading the model once.
"""
from __future__ import annotations

from collections import deque
from datetime import date
from pathlib import Path
from typing import Iterator

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from alerts.deliver import parse_channels
from extractors.archives import ArchiveProblem, archive_kind, bounded_lines, read_archive
from extractors.article import Article
from flows import artifacts
from flows.pipeline import (
    BatchSummary, Screened, artifact_meta, detect_shifts, get_model, load_deduplicator, model_languages, model_version,
    persist, record_and_deliver, screen_articles,
)
from flows.lock import store_lock
from flows.progress import notify
from flows.settings import load_settings
from store import repository as repo

BATCH = 64


def _batches(sources: list[str], since: date | None, until: date | None, summary: BatchSummary,
             problems: list[str], unreadable: list[str] | None = None) -> Iterator[tuple[str, list[Article]]]:
    """Batches of articles in archive order. A source that gave problems and not one record goes to `unreadable`."""
    for src in sources:
        batch: list[Article] = []
        records = failed = 0
        for item in read_archive(src):
            if isinstance(item, ArchiveProblem):
                problems.append(f"{item.where}: {item.reason}")
                failed += 1
                continue
            records += 1
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
        if failed and not records and unreadable is not None:
            unreadable.append(src)


def estimate_items(sources: list[str]) -> int | None:
    """How many records the sources hold, where that is cheap to know (JSONL lines, folder files); None for WARC."""
    import gzip
    import zlib

    total = 0
    for src in sources:
        p = Path(src)
        kind = archive_kind(p)
        if kind == "warc":
            return None
        if kind == "folder":
            total += sum(1 for f in p.rglob("*") if f.is_file() and not f.name.endswith(".meta.json"))
            continue
        opener = gzip.open if p.name.endswith(".gz") else open
        try:
            with opener(p, "rb") as fh:  # line by line with a size limit: a 200 MB line is never held whole
                total += sum(1 for _, line, _ in bounded_lines(fh, 1 << 16) if line is None or line.strip())
        except (OSError, EOFError, zlib.error):
            return None
    return total


@task(name="judge-batch", cache_policy=NO_CACHE, retries=1, retry_delay_seconds=5)
def judge_task(texts: list[str], languages: list, model_settings: dict, threads: int | None = None) -> list:
    """The classifier on one batch; runs wherever the task runner puts it (this process or a Dask worker)."""
    model = get_model(load_settings(**model_settings))
    if threads:
        model.use_threads(threads)
    return model.judge_texts(texts, languages)


def _runner(workers: int, dask: str | None):
    if not workers and not dask:
        return None
    from prefect_dask import DaskTaskRunner

    if dask:
        return DaskTaskRunner(address=dask)
    return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True,
                                          "dashboard_address": None})


def run_backfill(sources: list[str], since: str | None = None, until: str | None = None, deliver_alerts: bool = False,
                 workers: int = 0, dask: str | None = None) -> dict:
    """Entry point for the command line and tests: the flow, on the task runner the options ask for."""
    runner = _runner(workers, dask)
    fl = backfill.with_options(task_runner=runner) if runner else backfill
    return fl(sources, since, until, deliver_alerts, parallel=bool(runner), threads=1 if workers else None)


@flow(name="backfill", log_prints=False, validate_parameters=False)
def backfill(sources: list[str], since: str | None = None, until: str | None = None, deliver_alerts: bool = False,
             parallel: bool = False, threads: int | None = None) -> dict:
    settings = load_settings()
    for src in sources:
        archive_kind(Path(src))  # fail early, naming the source
    with store_lock(settings.home, settings.db_url, "backfill", settings.db_busy_timeout_s):
        return _replay(settings, sources, since, until, deliver_alerts, parallel, threads)


def _replay(settings, sources: list[str], since: str | None, until: str | None, deliver_alerts: bool,
            parallel: bool, threads: int | None) -> dict:
    store = settings.open_store()
    channels = parse_channels(settings.alert_urls)
    meta = artifact_meta(settings)  # the model is loaded by the first batch with something to judge, if any
    version, languages = model_version(meta), model_languages(meta)
    model_settings = {"model_artifact": str(settings.model_artifact), "model": settings.model, "backend": settings.backend}
    run_id = repo.start_run(store, "backfill")
    dedup = load_deduplicator(store)
    summary = BatchSummary()
    problems: list[str] = []
    progress = artifacts.BackfillProgress(estimate_items(sources))
    in_flight: deque[tuple[str, Screened, object]] = deque()
    window = 4 if parallel else 1

    def settle(src: str, screened: Screened, verdicts) -> None:
        summary.merge(persist(store, screened, verdicts, origin=src, version=version))
        notify(summary.read, len(problems))  # the command line's progress bar, if one listens
        progress.update(summary.read, len(problems))

    d_since = date.fromisoformat(since) if since else None
    d_until = date.fromisoformat(until) if until else None
    unreadable: list[str] = []
    for src, batch in _batches(sources, d_since, d_until, summary, problems, unreadable):
        screened = screen_articles(store, languages, batch, dedup)
        if not screened.to_judge:
            settle(src, screened, [])
            continue
        if parallel:
            fut = judge_task.submit(screened.texts, screened.languages, model_settings, threads)
        else:
            fut = judge_task(screened.texts, screened.languages, model_settings)
        in_flight.append((src, screened, fut))
        while len(in_flight) >= window:  # persist in submission order: the store sees archive order
            s, sc, f = in_flight.popleft()
            settle(s, sc, f.result() if parallel else f)
    while in_flight:
        s, sc, f = in_flight.popleft()
        settle(s, sc, f.result() if parallel else f)
    reference = meta.get("reference_profile", {})
    shifts = detect_shifts(store, settings, reference)
    new_alerts, delivery = record_and_deliver(store, settings, channels, shifts, backfill=True,
                                              deliver_historical=deliver_alerts)
    result = {"kind": "backfill", "sources": sources, **summary.as_dict(), "problems": problems[:50],
              "problem_count": len(problems), "unreadable": unreadable, "shifts": len(shifts), "new_alerts": new_alerts,
              "delivered": len(delivery.sent)}
    repo.finish_run(store, run_id, result)
    progress.finish()
    artifacts.publish_backfill({k: v for k, v in result.items() if k not in ("problems",)})
    store.close()
    return result
