"""Backfills: archives replayed through the same pipeline as the daily runs.

Screening (dedup, language, relevance) and persistence run in the flow's process, in archive order, so the
result does not depend on how many workers judged the batches; only the classifier calls go to the task
runner: in this process by default, or on Dask workers (--workers N, --dask ADDRESS), each loading the model once.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from alerts.deliver import parse_channels
from extractors.archives import archive_kind
from flows import artifacts
from flows.lock import store_lock
from flows.progress import notify
from flows.settings import Settings, load_settings
from pipeline.alerting import detect_shifts, record_and_deliver
from pipeline.batch import BatchSummary, Screened, load_deduplicator, persist
from pipeline.config import ModelSpec
from pipeline.model import artifact_meta, get_model, model_languages, model_version
from pipeline.replay import archive_batches, estimate_items, replay_batches
from store import repository as repo

__all__ = ["backfill", "estimate_items", "judge_task", "run_backfill"]


@task(name="judge-batch", cache_policy=NO_CACHE, retries=1, retry_delay_seconds=5)
def judge_task(texts: list[str], languages: list, spec: ModelSpec, threads: int | None = None) -> list:
    """The classifier on one batch; runs wherever the task runner puts it (this process or a Dask worker)."""
    model = get_model(spec)
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
                 workers: int = 0, dask: str | None = None, settings: dict | None = None) -> dict:
    """Entry point for the command line and tests: the flow, on the task runner the options ask for."""
    runner = _runner(workers, dask)
    fl = backfill.with_options(task_runner=runner) if runner else backfill
    return fl(sources, since, until, deliver_alerts, parallel=bool(runner), threads=1 if workers else None,
              settings=settings)


@flow(name="backfill", log_prints=False, validate_parameters=False)
def backfill(sources: list[str], since: str | None = None, until: str | None = None, deliver_alerts: bool = False,
             parallel: bool = False, threads: int | None = None, settings: dict | None = None) -> dict:
    """`settings`: overrides of the configured settings (names as in Settings); a deployment passes none."""
    cfg = load_settings(**(settings or {}))
    for src in sources:
        archive_kind(Path(src))  # fail early, naming the source
    with store_lock(cfg.home, cfg.db_url, "backfill", cfg.db_busy_timeout_s):
        return _replay(cfg, sources, since, until, deliver_alerts, parallel, threads)


def _replay(settings: Settings, sources: list[str], since: str | None, until: str | None, deliver_alerts: bool,
            parallel: bool, threads: int | None) -> dict:
    store = settings.open_store()
    channels = parse_channels(settings.alert_urls)
    meta = artifact_meta(settings.model_artifact)  # the model is loaded by the first batch with something to judge
    version, spec = model_version(meta), settings.classifier_spec()
    run_id = repo.start_run(store, "backfill")
    summary, problems, unreadable = BatchSummary(), [], []
    progress = artifacts.BackfillProgress(estimate_items(sources))

    def judge(sc: Screened):
        if parallel:
            return judge_task.submit(sc.texts, sc.languages, spec, threads).result
        verdicts = judge_task(sc.texts, sc.languages, spec)
        return lambda: verdicts

    def settle(src: str, screened: Screened, verdicts) -> None:
        summary.merge(persist(store, screened, verdicts, origin=src, version=version))
        notify(summary.read, len(problems))  # the command line's progress bar, if one listens
        progress.update(summary.read, len(problems))

    d_since = date.fromisoformat(since) if since else None
    d_until = date.fromisoformat(until) if until else None
    replay_batches(store, archive_batches(sources, d_since, d_until, summary, problems, unreadable),
                   model_languages(meta), load_deduplicator(store), judge=judge, settle=settle,
                   window=4 if parallel else 1)
    reference = meta.get("reference_profile", {})
    shifts = detect_shifts(store, settings.detector_config(), reference, settings.model_artifact)
    new_alerts, delivery = record_and_deliver(store, settings.delivery_policy(), channels, shifts, backfill=True,
                                              deliver_historical=deliver_alerts)
    result = {"kind": "backfill", "sources": sources, **summary.as_dict(), "problems": problems[:50],
              "problem_count": len(problems), "unreadable": unreadable, "shifts": len(shifts), "new_alerts": new_alerts,
              "delivered": len(delivery.sent)}
    repo.finish_run(store, run_id, result)
    progress.finish()
    artifacts.publish_backfill({k: v for k, v in result.items() if k not in ("problems",)})
    store.close()
    return result
