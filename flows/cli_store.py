"""The commands that read or change the store: alerts, report, feeds."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from flows.cli_app import app, check_format, check_out_dir, cli_settings
from flows.console import clip, console, jsonl
from flows.exits import Fail
from flows.present import print_alerts, print_feed_table
from vocab.errors import EXIT_USAGE

_RETRY_HELP = ("send this alert again at the next run, to every channel that has not got it (failed, unknown, dead "
               "or dropped)")


@app.command()
def alerts(format: str = typer.Option("text", "--format", help="text or jsonl"),
           test: bool = typer.Option(False, "--test", help="send one test message through every configured channel"),
           ack: Optional[str] = typer.Option(None, "--ack", metavar="ID",
                                             help="acknowledge the alert with this id (or its first 6+ characters)"),
           retry: Optional[str] = typer.Option(None, "--retry", metavar="ID", help=_RETRY_HELP),
           drop: Optional[str] = typer.Option(None, "--drop", metavar="ID",
                                              help="never send this alert to the channels that have not got it")):
    """The recorded shift alerts and their delivery state."""
    check_format(format)
    if retry and drop:
        raise Fail("--retry and --drop cannot be used together", EXIT_USAGE)
    if (retry or drop) and (test or ack):
        raise Fail(f"{'--retry' if retry else '--drop'} cannot be used with {'--test' if test else '--ack'}",
                   EXIT_USAGE)
    if test or ack:
        from flows.cli_analyst import alerts_action

        return alerts_action(test, ack)
    store = cli_settings().open_store()
    if retry or drop:
        from store import repository as repo

        alert_id = repo.resolve_alert_id(store, retry or drop)
        changed = repo.set_deliveries(store, alert_id, state="pending" if retry else "dropped")
        verb = "will be sent at the next run to" if retry else "dropped for"
        console().print(f"alert {alert_id}: {verb} {', '.join(changed)}" if changed
                        else f"alert {alert_id}: every channel has it already; nothing to do")
        return
    print_alerts(console(), store, format)


@app.command()
def report(out: Optional[Path] = typer.Option(None, help="folder for index.html (default KSTANCE_HOME/report)")):
    """Write the HTML report with timeline pictures."""
    check_out_dir("--out", out)
    settings = cli_settings()
    store = settings.open_store()
    from pipeline.model import reference_profile
    from reports.html import write_report

    path = write_report(store, out or settings.home / "report", reference_profile(settings.model_artifact))
    console().print(f"report: {path.resolve()}")


@app.command()
def feeds(reset: Optional[str] = typer.Option(None, "--reset", metavar="NAME",
                                              help="clear this feed's back-off and re-enable it (its name or URL)"),
          all_feeds: bool = typer.Option(False, "--all", "--reset-all", help="reset every configured feed"),
          format: str = typer.Option("text", "--format", help="text or jsonl")):
    """The configured feeds and their health: state, last success, failures, next try, articles stored.

    `--reset NAME` (or `--all`) clears a back-off and re-enables a disabled feed: the next run polls it."""
    check_format(format)
    if reset in ("--all", "--reset-all"):  # `--reset --all`: click reads --all as the value of --reset
        reset, all_feeds = None, True
    if all_feeds and reset:
        raise Fail("give --reset NAME or --all, not both", EXIT_USAGE)
    settings = cli_settings()
    from flows.settings import read_feed_list
    from store import repository as repo

    configured = read_feed_list(settings.feeds, enabled_only=False)
    store = settings.open_store()
    if all_feeds or reset is not None:
        reset_feeds(store, configured, None if all_feeds else reset, settings.feeds)
        return
    rows = feed_health(configured, {f.url: f for f in repo.all_feeds(store)}, repo.articles_per_origin(store),
                       repo.now())
    if format == "jsonl":
        for r in rows:
            print(jsonl(r))
        return
    print_feed_table(console(), rows)


def reset_feeds(store, configured: list[dict], name: str | None, feed_list: Path) -> None:
    """Clear the back-off of the feed with this name or URL (None: every configured feed) and re-enable it."""
    from store import repository as repo

    chosen = configured if name is None else [f for f in configured if name in (f["name"], f["url"])]
    if not chosen:
        names = ", ".join(repr(f["name"]) for f in configured) or "none"
        raise Fail(f"no feed named {name!r} in {feed_list} (feeds: {clip(names, 200)})", EXIT_USAGE)
    c = console()
    for f in chosen:
        was = repo.reset_feed(store, f["url"])
        c.print(f"reset {f['name']}: " + ("back-off cleared, enabled; the next run polls it" if was
                                          else "never polled, nothing to reset"))


def feed_health(configured: list[dict], states: dict, articles: dict[str, int], now) -> list[dict]:
    """One row per configured feed: `state` is ok, never polled, failing, backing off, disabled (by kstance after
    repeated failures) or off (enabled = false in the feed list); `next_try` says when a run polls it again."""
    rows = []
    for f in configured:
        st = states.get(f["url"])
        failures = (st.consecutive_failures or 0) if st else 0
        problem = None
        if not f.get("enabled", True):
            state, next_try = "off", "not polled (enabled = false in the feed list)"
        elif st is None:
            state, next_try = "never polled", "next run"
        elif st.disabled:
            state, next_try, problem = "disabled", "never (kstance feeds --reset)", st.disabled_reason
        elif failures and st.next_poll and st.next_poll > now:
            state, next_try, problem = "backing off", f"{st.next_poll:%Y-%m-%d %H:%M} UTC", st.last_error
        elif failures:
            state, next_try, problem = "failing", "next run", st.last_error
        else:
            state, next_try = "ok", "next run"
        rows.append({"name": f["name"], "url": f["url"], "state": state,
                     "last_success": f"{st.last_success:%Y-%m-%d %H:%M} UTC" if st and st.last_success else None,
                     "consecutive_failures": failures, "next_try": next_try, "articles": articles.get(f["url"], 0),
                     "problem": problem})
    return rows
