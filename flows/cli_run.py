"""The commands that run the pipeline: classify, run, backfill, calibrate, serve, demo."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

import typer

from flows.analyst import parse_day as parse_date
from flows.cli_app import app, check_format, check_out_dir, cli_settings
from flows.console import console
from flows.exits import Fail
from flows.present import print_backfill, print_calibration, print_cycle, print_verdicts
from vocab.errors import EXIT_USAGE


@app.command()
def classify(paths: list[Path] = typer.Argument(..., help=".txt, .html or .json (with text or html) files"),
             format: str = typer.Option("text", "--format", help="text or jsonl")):
    """Judge files without storing anything."""
    check_format(format)
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise Fail(f"no such file: {', '.join(missing)}", EXIT_USAGE)
    settings = cli_settings()
    from pipeline.model import get_model

    model = get_model(settings.classifier_spec())
    articles = [read_input(p) for p in paths]
    verdicts = model.judge_texts([a.text for a in articles], [a.language for a in articles])
    print_verdicts(console(), paths, verdicts, format)


def read_input(p: Path):
    """One file as an Article: .html/.htm extracted, .json read as an archive record, anything else as text."""
    from extractors.archives import ArchiveProblem, record_to_article
    from extractors.text import article_from_text, extract_article

    name = p.name.lower()
    try:
        if name.endswith((".html", ".htm")):
            return extract_article(p.read_bytes(), p.resolve().as_uri())
        if name.endswith(".json"):
            rec = json.loads(p.read_text(encoding="utf-8"))
            if isinstance(rec, dict):
                rec.setdefault("url", p.resolve().as_uri())
            art = record_to_article(rec, str(p))
            if isinstance(art, ArchiveProblem):
                raise Fail(f"{p}: {art.reason}", EXIT_USAGE)
            return art
        return article_from_text(p.read_text(encoding="utf-8", errors="replace"), p.resolve().as_uri())
    except (OSError, ValueError) as exc:
        raise Fail(f"{p}: cannot read: {exc}", EXIT_USAGE) from None


@app.command()
def run(today: Optional[str] = typer.Option(None, help="treat this date (YYYY-MM-DD) as today")):
    """One monitoring cycle over the configured feeds.

    Exit 0: the cycle ran (or nothing was due); 1: every feed that was due failed, every feed is disabled, or no
    alert could be delivered; 2: bad input or configuration."""
    from flows.runs import run_monitor

    parse_date("--today", today)
    result = run_monitor(cli_settings(), today)
    print_cycle(console(), result)
    raise_for_cycle(result)


def raise_for_cycle(result: dict) -> None:
    """The end of a cycle an operator must hear about: exit 1 with a line; nothing due: exit 0 with a line."""
    feeds = result["feeds"]
    polled = [f for f in feeds if f["status"] not in ("disabled", "backing off")]
    if feeds and not polled:
        if all(f["status"] == "disabled" for f in feeds):
            raise Fail(f"every feed is disabled ({len(feeds)}): see `kstance feeds`; `kstance feeds --all --reset` "
                       "re-enables them")
        waiting = [f for f in feeds if f["status"] == "backing off"]
        console().print(f"nothing was due: {len(waiting)} feed(s) backing off after failures, "
                        f"{len(feeds) - len(waiting)} disabled (see `kstance feeds`)")
        return
    if polled and all(f["status"] == "error" for f in polled):
        raise Fail(f"every feed that was due failed ({len(polled)}): see `kstance feeds`")
    if result["delivery_failures"] and not result["delivered"]:
        raise Fail(f"no alert could be delivered ({len(result['delivery_failures'])} deliveries failed; "
                   "they are retried at the next run): see `kstance alerts`")


def check_backfill_options(sources: list[Path], since: str | None, until: str | None, workers: int,
                           dask: str | None) -> None:
    from extractors.archives import UnsupportedArchive, archive_kind

    d_since, d_until = parse_date("--since", since), parse_date("--until", until)
    if d_since and d_until and d_since > d_until:
        raise Fail(f"--since {since} is after --until {until}: nothing would be read", EXIT_USAGE)
    for src in sources:
        try:
            archive_kind(src)
        except UnsupportedArchive as exc:
            raise Fail(str(exc), EXIT_USAGE) from None
    if workers < 0:
        raise Fail("--workers must be 0 (this process) or more", EXIT_USAGE)
    if dask and not dask.startswith(("tcp://", "tls://", "inproc://", "ucx://")):
        raise Fail(f"--dask must be a scheduler address like tcp://HOST:8786, not {dask!r}", EXIT_USAGE)


@app.command()
def backfill(sources: list[Path] = typer.Argument(..., help=".jsonl/.jsonl.gz, .warc/.warc.gz or folders"),
             since: Optional[str] = typer.Option(None, help="skip articles published before YYYY-MM-DD"),
             until: Optional[str] = typer.Option(None, help="skip articles published after YYYY-MM-DD"),
             deliver_alerts: bool = typer.Option(False, "--deliver-alerts", help="send the alerts this backfill finds"),
             workers: int = typer.Option(0, help="classify on a local Dask cluster with N workers"),
             dask: Optional[str] = typer.Option(None, help="classify on an existing Dask scheduler (tcp://HOST:PORT)")):
    """Replay archives through the same pipeline as the daily runs.

    Exit 0: done; 1: a source could not be read at all; 2: bad input or configuration."""
    check_backfill_options(sources, since, until, workers, dask)
    settings = cli_settings()
    settings.open_store()
    from flows.lock import store_lock
    from flows.runs import may_hold_records

    names = [str(s) for s in sources]
    with store_lock(settings.home, settings.db_url, "backfill", settings.db_busy_timeout_s):  # a busy store is said
        if not may_hold_records(names):  # nothing to replay: no Prefect, no model
            console().print("read 0: the sources hold no records")
            return
        result = _backfill_with_progress(names, since, until, deliver_alerts, workers, dask)
    print_backfill(console(), result)
    if result.get("unreadable"):
        raise Fail(f"nothing could be read from {', '.join(result['unreadable'])}: every record was a problem")


def _backfill_with_progress(sources: list[str], since, until, deliver_alerts: bool, workers: int, dask) -> dict:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from flows import backfill as bf
    from flows import progress as listeners
    from flows.runs import quiet_flow

    with Progress(TextColumn("backfill"), BarColumn(bar_width=None), TextColumn("{task.completed} articles"),
                  TextColumn("{task.fields[problems]} problems"), TimeElapsedColumn(),
                  # no stdout/stderr proxies: they hold locks, and Dask must pickle the task's context
                  console=console(), transient=False, redirect_stdout=False, redirect_stderr=False) as progress:
        task = progress.add_task("read", total=None, problems=0)
        listeners.listen(lambda n, p: progress.update(task, completed=n, problems=p))
        try:
            return quiet_flow(bf.run_backfill, sources, since, until, deliver_alerts, workers, dask)
        finally:
            listeners.clear()


@app.command()
def calibrate(folds: int = typer.Option(5, help="cross-validation folds over the article corpus (grouped by month)"),
              epochs: int = typer.Option(2, help="training epochs of the encoder (stage one)"),
              out: Optional[Path] = typer.Option(None, help="write the artifact here instead of seeds/model")):
    """Refit the stance classifier on seeds/ and write seeds/model/."""
    if folds < 2 or epochs < 1:
        raise Fail("--folds must be 2 or more and --epochs 1 or more", EXIT_USAGE)
    check_out_dir("--out", out)
    settings = cli_settings()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from classifiers.calibration import TrainConfig
    from classifiers.calibration import calibrate as fit

    target = out or settings.model_artifact
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console()) as progress:
        tasks: dict[str, int] = {}

        def report(tag: str, step: int, total: int) -> None:
            if tag not in tasks:
                tasks[tag] = progress.add_task(tag, total=total)
            progress.update(tasks[tag], completed=step)

        meta = fit(target, cfg=TrainConfig(folds=folds, epochs=epochs), model_spec=settings.model, progress=report)
    print_calibration(console(), target, meta)


@app.command()
def serve():
    """Serve the daily schedule (default 07:00 Asia/Seoul) as Prefect deployments."""
    settings = cli_settings()
    from alerts.deliver import parse_channels
    from flows.settings import check_schedule, read_feed_list

    # everything the scheduled runs need, checked before any server starts
    read_feed_list(settings.feeds)
    check_schedule(settings)
    parse_channels(settings.alert_urls)
    settings.open_store()
    c = console()
    if os.environ.get("PREFECT_API_URL"):
        _serve(settings, c)
        return
    from flows.server import ServerError, local_prefect_server

    c.print("PREFECT_API_URL is not set: starting a local Prefect server (SQLite under "
            f"{os.environ.get('PREFECT_HOME')}), since Prefect's temporary API runs no schedules")
    try:
        with local_prefect_server(settings.home) as url:
            os.environ["PREFECT_API_URL"] = url
            c.print(f"Prefect server at {url.removesuffix('/api')} (UI there)")
            _serve(settings, c)
    except ServerError as exc:
        raise Fail(str(exc)) from None


def _serve(settings, c) -> None:
    from prefect import serve as prefect_serve
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.deployments import deployments

    c.print(f"serving monitor on '{settings.schedule_cron}' ({settings.schedule_timezone}), backfill and calibrate "
            "on demand; Ctrl-C stops")
    # one run at a time (a late scheduled run waits): the cycle and a backfill would only queue on the store lock
    # prefect reads its settings once, when first imported (the schedule check imports it before the server's
    # address is known): the runner must talk to this server, not start a temporary API of its own
    with temporary_settings(updates={PREFECT_API_URL: os.environ["PREFECT_API_URL"]}):
        prefect_serve(*deployments(settings), limit=1)


_SEND_HELP = "deliver the demo's alert through the configured channels (KSTANCE_ALERT_URLS)"


@app.command()
def demo(send: bool = typer.Option(False, "--send", help=_SEND_HELP)):
    """Serve a bundled sample feed on 127.0.0.1, run one full cycle on it, print the stance table and alerts."""
    from flows.demo import run_demo

    run_demo(console(), send=send)
