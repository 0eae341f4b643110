"""The flows as the command line and the demo run them: inputs checked before any work, the store's writer lease
held, progress lines on stderr, Prefect's shutdown chatter kept off the terminal."""
from __future__ import annotations

import logging
from pathlib import Path

from flows.console import console


def quiet_flow(fn, *args, **kwargs):
    """Run a flow with Prefect's shutdown chatter ('Error flushing events' and the like) kept off the terminal."""
    for name in ("prefect", "prefect.events", "prefect._internal", "httpx", "uvicorn", "distributed", "dask"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    return fn(*args, **kwargs)


def run_monitor(settings, today: str | None, overrides: dict | None = None) -> dict:
    """One monitoring cycle. `settings` are those loaded from `overrides` (the flow loads them again, from the same
    overrides, in its own run): bad alert URLs and feed lists are named before any work."""
    from alerts.deliver import parse_channels
    from flows.settings import read_feed_list

    parse_channels(settings.alert_urls)
    read_feed_list(settings.feeds)
    settings.open_store()
    from prefect.task_runners import ThreadPoolTaskRunner

    from flows import progress
    from flows.lock import store_lock
    from flows.monitor import monitor

    err = console(stderr=True)
    progress.listen_lines(lambda line: err.print(line, soft_wrap=True))  # one line each, however long
    try:
        with store_lock(settings.home, settings.db_url, "run", settings.db_busy_timeout_s):
            flow = monitor.with_options(task_runner=ThreadPoolTaskRunner(max_workers=settings.max_concurrent_requests))
            result = quiet_flow(flow, today, settings=overrides)
    finally:
        progress.clear()
    return result


def may_hold_records(sources: list[str]) -> bool:
    """False only when every source is certainly empty (no non-blank JSONL line, no file in a folder): reads at
    most up to the first record of each, so a large archive costs nothing here."""
    import gzip

    from extractors.archives import archive_kind

    for src in sources:
        p = Path(src)
        kind = archive_kind(p)
        if kind == "warc":
            return True
        if kind == "folder":
            if any(f.is_file() and not f.name.endswith(".meta.json") for f in p.rglob("*")):
                return True
            continue
        opener = gzip.open if p.name.endswith(".gz") else open
        try:
            with opener(p, "rb") as fh:
                if any(line.strip() for line in fh):
                    return True
        except (OSError, EOFError):
            return True  # unreadable: the flow reports it
    return False
