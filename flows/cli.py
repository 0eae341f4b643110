"""The kstance command. Every failure the user can cause or meet ends in one line on stderr and a
non-zero exit, never a traceback."""
from __future__ import annotations

import importlib
import json
import logging
import os
import sys
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  rich_markup_mode=None, help="Watch Korean foreign-policy news for shifts in Seoul's stance.")

EXIT_USAGE = 2
EXIT_FAILED = 1


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            _console().print(f"kstance {version('kstance')}")
        except PackageNotFoundError:  # run from a checkout that was not installed
            _console().print("kstance (not installed)")
        raise typer.Exit()


@app.callback()
def _root(_version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                        help="print the version and exit")):
    """Watch Korean foreign-policy news for shifts in Seoul's stance."""


class Fail(Exception):
    """Ends the command with this message and exit code."""

    def __init__(self, message: str, code: int = EXIT_FAILED):
        super().__init__(message)
        self.code = code


def _settings(**overrides):
    from flows.settings import load_settings, prepare_prefect_env

    s = load_settings(**overrides)
    prepare_prefect_env(s.home)
    return s


def _console(stderr: bool = False):
    """The one console every command prints through (stderr=True: progress lines)."""
    import sys

    from rich.console import Console

    class InertConsole(Console):
        """Every string printed is untrusted text (titles, evidence, errors, file names): markup and emoji codes
        are off and control characters removed, so `[/]`, `[link=...]` or an ESC sequence prints as inert text."""

        def print(self, *objects, **kwargs):
            super().print(*(inert(o) if isinstance(o, str) else o for o in objects), **kwargs)

    # piped into a log (make demo | tee, CI), rich would assume 80 columns and fold the tables
    stream = sys.stderr if stderr else sys.stdout
    return InertConsole(highlight=False, soft_wrap=False, markup=False, emoji=False, stderr=stderr,
                        width=None if stream.isatty() else 132)


# C0 and C1 control characters, DEL, and the bidirectional overrides (which reorder what the terminal shows);
# newlines and tabs become spaces
_INERT = {c: None for c in [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), 0x200E, 0x200F, *range(0x202A, 0x202F),
                            *range(0x2066, 0x206A)]}
_INERT.update({0x09: " ", 0x0A: " ", 0x0D: " "})
_JSON_C1 = {c: f"\\u{c:04x}" for c in [0x7F, *range(0x80, 0xA0), 0x2028, 0x2029, 0x200E, 0x200F,
                                        *range(0x202A, 0x202F), *range(0x2066, 0x206A)]}


def inert(text: str, keep_newlines: bool = True) -> str:
    """Untrusted text made safe for a terminal: control characters removed (newlines kept, if asked)."""
    text = str(text)
    if keep_newlines:
        return "\n".join(line.translate(_INERT) for line in text.split("\n"))
    return text.translate(_INERT)


def _jsonl(rec: dict) -> str:
    """One JSON line for stdout: JSON escapes C0 controls itself; C1 controls and bidi overrides are escaped too."""
    return json.dumps(rec, ensure_ascii=False).translate(_JSON_C1)


# -- commands -------------------------------------------------------------------------------------

@app.command()
def classify(paths: list[Path] = typer.Argument(..., help=".txt, .html or .json (with text or html) files"),
             format: str = typer.Option("text", "--format", help="text or jsonl")):
    """Judge files without storing anything."""
    if format not in ("text", "jsonl"):
        raise Fail(f"--format must be text or jsonl, not {format!r}", EXIT_USAGE)
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise Fail(f"no such file: {', '.join(missing)}", EXIT_USAGE)
    settings = _settings()
    from extractors.archives import ArchiveProblem, record_to_article
    from extractors.text import article_from_text, extract_article
    from flows.pipeline import get_model

    model = get_model(settings)
    articles = []
    for p in paths:
        name = p.name.lower()
        try:
            if name.endswith((".html", ".htm")):
                art = extract_article(p.read_bytes(), p.resolve().as_uri())
            elif name.endswith(".json"):
                rec = json.loads(p.read_text(encoding="utf-8"))
                if isinstance(rec, dict):
                    rec.setdefault("url", p.resolve().as_uri())
                art = record_to_article(rec, str(p))
                if isinstance(art, ArchiveProblem):
                    raise Fail(f"{p}: {art.reason}", EXIT_USAGE)
            else:
                art = article_from_text(p.read_text(encoding="utf-8", errors="replace"), p.resolve().as_uri())
        except (OSError, ValueError) as exc:
            raise Fail(f"{p}: cannot read: {exc}", EXIT_USAGE) from None
        articles.append(art)
    verdicts = model.judge_texts([a.text for a in articles], [a.language for a in articles])
    console = _console()
    for p, art, v in zip(paths, articles, verdicts):
        if format == "jsonl":
            for j in v.judgments:
                print(_jsonl({"input": str(p), **j.as_dict()}))
            continue
        console.print(f"{p}" + (f"  ({v.reason})" if not v.judgments else ""), style="bold")
        for j in v.judgments:
            console.print(f"  {j.actor}  {j.stance:<15} score {j.score:+.2f}  confidence {j.confidence:.2f}")
            for e in j.evidence[:2]:
                console.print(f"      \u201c{_clip(e, 150)}\u201d")


@app.command()
def run(today: Optional[str] = typer.Option(None, help="treat this date (YYYY-MM-DD) as today")):
    """One monitoring cycle over the configured feeds.

    Exit 0: the cycle ran (or nothing was due); 1: every feed that was due failed, every feed is disabled, or no
    alert could be delivered; 2: bad input or configuration."""
    _parse_date("--today", today)
    settings = _settings()
    result = _run_monitor(settings, today)
    _print_cycle(result)
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
        _console().print(f"nothing was due: {len(waiting)} feed(s) backing off after failures, "
              f"{len(feeds) - len(waiting)} disabled (see `kstance feeds`)")
        return
    if polled and all(f["status"] == "error" for f in polled):
        raise Fail(f"every feed that was due failed ({len(polled)}): see `kstance feeds`")
    if result["delivery_failures"] and not result["delivered"]:
        raise Fail(f"no alert could be delivered ({len(result['delivery_failures'])} deliveries failed; "
                   "they are retried at the next run): see `kstance alerts`")


def _parse_date(label: str, value: str | None):
    from datetime import date

    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Fail(f"{label} must be a date like 2024-06-30, not {value!r}", EXIT_USAGE) from None


@app.command()
def backfill(sources: list[Path] = typer.Argument(..., help=".jsonl/.jsonl.gz, .warc/.warc.gz or folders"),
             since: Optional[str] = typer.Option(None, help="skip articles published before YYYY-MM-DD"),
             until: Optional[str] = typer.Option(None, help="skip articles published after YYYY-MM-DD"),
             deliver_alerts: bool = typer.Option(False, "--deliver-alerts", help="send the alerts this backfill finds"),
             workers: int = typer.Option(0, help="classify on a local Dask cluster with N workers"),
             dask: Optional[str] = typer.Option(None, help="classify on an existing Dask scheduler (tcp://HOST:PORT)")):
    """Replay archives through the same pipeline as the daily runs.

    Exit 0: done; 1: a source could not be read at all; 2: bad input or configuration."""
    from extractors.archives import UnsupportedArchive, archive_kind

    d_since, d_until = _parse_date("--since", since), _parse_date("--until", until)
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
    settings = _settings()
    _check_store(settings)
    from flows.lock import store_lock

    if not may_hold_records([str(s) for s in sources]):  # nothing to replay: no Prefect, no model
        with store_lock(settings.home, settings.db_url, "backfill", settings.db_busy_timeout_s):  # a busy store is still said so
            _console().print("read 0: the sources hold no records")
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from flows import backfill as bf
    from flows import progress as listeners

    with store_lock(settings.home, settings.db_url, "backfill", settings.db_busy_timeout_s), Progress(TextColumn("backfill"), BarColumn(bar_width=None), TextColumn("{task.completed} articles"),
                  TextColumn("{task.fields[problems]} problems"), TimeElapsedColumn(),
                  # no stdout/stderr proxies: they hold locks, and Dask must pickle the task's context
                  console=_console(), transient=False, redirect_stdout=False, redirect_stderr=False) as progress:
        task = progress.add_task("read", total=None, problems=0)
        listeners.listen(lambda n, p: progress.update(task, completed=n, problems=p))
        try:
            result = _quiet_flow(bf.run_backfill, [str(s) for s in sources], since, until, deliver_alerts, workers, dask)
        finally:
            listeners.clear()
    c = _console()
    c.print(f"read {result['read']}, duplicates {result['duplicates']}, judged {result['judged']} "
            f"({result['judgments']} judgments), shifts {result['shifts']}, new alerts {len(result['new_alerts'])}")
    for reason, n in result["skipped"].items():
        c.print(f"  skipped {n}: {reason}")
    for p in result["problems"][:20]:
        c.print(f"  problem: {p}")
    if result["problem_count"] > 20:
        c.print(f"  ... and {result['problem_count'] - 20} more problems")
    if result.get("unreadable"):
        raise Fail(f"nothing could be read from {', '.join(result['unreadable'])}: every record was a problem")


@app.command()
def calibrate(folds: int = typer.Option(5, help="cross-validation folds over the article corpus (grouped by month)"),
              epochs: int = typer.Option(2, help="training epochs of the encoder (stage one)"),
              out: Optional[Path] = typer.Option(None, help="write the artifact here instead of seeds/model")):
    """Refit the stance classifier on seeds/ and write seeds/model/."""
    if folds < 2 or epochs < 1:
        raise Fail("--folds must be 2 or more and --epochs 1 or more", EXIT_USAGE)
    _check_out_dir("--out", out)
    settings = _settings()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from classifiers.calibration import TrainConfig
    from classifiers.calibration import calibrate as fit

    target = out or settings.model_artifact
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=_console()) as progress:
        tasks: dict[str, int] = {}

        def report(tag: str, step: int, total: int) -> None:
            if tag not in tasks:
                tasks[tag] = progress.add_task(tag, total=total)
            progress.update(tasks[tag], completed=step)

        meta = fit(target, cfg=TrainConfig(folds=folds, epochs=epochs), model_spec=settings.model, progress=report)
    arts, dev = meta["metrics"]["articles"], meta["metrics"]["dev"]
    c = _console()
    c.print(f"wrote {target} (temperature {meta['temperature']})")
    for lang, m in (arts or {}).items():
        c.print(f"articles, {lang}, {meta['train']['folds']}-fold CV by month: macro-F1 coop/conf "
                f"{m['macro_f1_coop_vs_conf']:.3f}, 3-stance accuracy {m['accuracy_3']:.3f}, none unjudged "
                f"{m['none_unjudged']:.3f}, stance unjudged {m['stance_unjudged']:.3f}")
    if dev:
        c.print(f"dev sentences: macro-F1 coop/conf {dev['macro_f1_coop_vs_conf']:.3f}, 3 stances {dev['macro_f1_3']:.3f}, "
                f"4 labels {dev['macro_f1_4']:.3f}, Brier {dev['brier']:.3f}")


@app.command()
def alerts(format: str = typer.Option("text", "--format", help="text or jsonl"),
           test: bool = typer.Option(False, "--test", help="send one test message through every configured channel"),
           ack: Optional[str] = typer.Option(None, "--ack", metavar="ID",
                                             help="acknowledge the alert with this id (or its first 6+ characters)"),
           retry: Optional[str] = typer.Option(None, "--retry", metavar="ID",
                                               help="send this alert again at the next run, to every channel "
                                                    "that has not got it (failed, unknown, dead or dropped)"),
           drop: Optional[str] = typer.Option(None, "--drop", metavar="ID",
                                              help="never send this alert to the channels that have not got it")):
    """The recorded shift alerts and their delivery state."""
    # Called as a function (by the demo), unset options are typer's OptionInfo defaults: only real values count.
    test = test is True
    ack, retry, drop = (v if isinstance(v, str) else None for v in (ack, retry, drop))
    if format not in ("text", "jsonl"):
        raise Fail(f"--format must be text or jsonl, not {format!r}", EXIT_USAGE)
    if retry and drop:
        raise Fail("--retry and --drop cannot be used together", EXIT_USAGE)
    if (retry or drop) and (test or ack):
        raise Fail(f"{'--retry' if retry else '--drop'} cannot be used with {'--test' if test else '--ack'}", EXIT_USAGE)
    if test or ack:
        from flows.cli_analyst import alerts_action

        return alerts_action(test, ack)
    settings = _settings()
    store = _check_store(settings)
    from store import repository as repo

    if retry or drop:
        alert_id = repo.resolve_alert_id(store, retry or drop)
        changed = repo.set_deliveries(store, alert_id, state="pending" if retry else "dropped")
        verb = "will be sent at the next run to" if retry else "dropped for"
        _console().print(f"alert {alert_id}: {verb} {', '.join(changed)}" if changed
                         else f"alert {alert_id}: every channel has it already; nothing to do")
        return

    rows = repo.alerts(store)
    links = repo.article_links(store, [u for a, _ in rows for u in a.articles])
    c = _console()
    for a, dels in rows:
        rec = alert_record(a, dels, links)
        if format == "jsonl":
            print(_jsonl(rec))
        else:
            c.print(f"{rec['id'][:8]}  {rec['detected_at']}  {rec['actor']}  {rec['from']} -> {rec['to']}  magnitude {rec['magnitude']:.2f}"
                    f"  confidence {rec['confidence']:.2f}{'  (historical)' if rec['historical'] else ''}  "
                    + (", ".join(f"{k}: {v}" for k, v in rec["deliveries"].items()) or "no channel"))
            for e in rec["evidence"][:2]:
                c.print(f"    \u201c{_clip(e, 150)}\u201d")
            for line in _delivery_lines(rec):
                c.print(f"    {line}", markup=False)
    if not rows and format == "text":
        c.print("no alerts recorded")


def alert_record(a, dels, links=None) -> dict:
    """`articles` are the links as the sources served them (the canonical dedup keys may not open);
    `article_keys` are those keys, in the same order."""
    from store.repository import link_of

    return {"id": a.id, "actor": a.actor, "from": a.from_stance, "to": a.to_stance,
            "detected_at": a.detected_at.isoformat(), "magnitude": a.magnitude, "confidence": a.confidence,
            "articles": [link_of(links or {}, u) for u in a.articles], "evidence": [e["sentence"] for e in a.evidence],
            "historical": bool(a.historical), "deliveries": {d.channel: d.state for d in dels},
            "article_keys": list(a.articles),
            "muted": bool(getattr(a, "muted", False)),
            "acknowledged": _utc(a.acked_at) if getattr(a, "acked_at", None) else None,
            "channels": {d.channel: {"state": d.state, "attempts": d.attempts or 0, "error": d.last_error,
                                     "next_try": _utc(d.next_try) if d.next_try and d.state in ("pending", "failed") else None,
                                     "sent_at": _utc(d.sent_at) if d.sent_at else None} for d in dels}}


def _utc(t) -> str:
    """A stored (naive, UTC) time as people read it: to the minute, with its zone."""
    return f"{t:%Y-%m-%d %H:%M} UTC"


def _delivery_lines(rec: dict) -> list[str]:
    """Per channel that needs a look: the error and when it is tried next."""
    out = []
    if rec["muted"]:
        out.append("muted: recorded while its target was muted, not sent")
    if rec["acknowledged"]:
        out.append(f"acknowledged {rec['acknowledged']}")
    for key, d in rec["channels"].items():
        if d["state"] in ("failed", "unknown") or (d["state"] == "pending" and d["error"]):
            tries = f" after {d['attempts']} attempt{'s' if d['attempts'] != 1 else ''}" if d["attempts"] else ""
            nxt = f"; next try {d['next_try']}" if d["next_try"] else ""
            out.append(f"{key}: {d['state']}{tries}: {d['error'] or 'no error recorded'}{nxt}")
    return out


@app.command()
def report(out: Optional[Path] = typer.Option(None, help="folder for index.html (default KSTANCE_HOME/report)")):
    """Write the HTML report with timeline pictures."""
    _check_out_dir("--out", out)
    settings = _settings()
    store = _check_store(settings)
    from reports.html import write_report

    reference = _reference(settings)
    path = write_report(store, out or settings.home / "report", reference)
    _console().print(f"report: {path.resolve()}")


@app.command()
def feeds(reset: Optional[str] = typer.Option(None, "--reset", metavar="NAME",
                                              help="clear this feed's back-off and re-enable it (its name or URL)"),
          all_feeds: bool = typer.Option(False, "--all", "--reset-all", help="reset every configured feed"),
          format: str = typer.Option("text", "--format", help="text or jsonl")):
    """The configured feeds and their health: state, last success, failures, next try, articles stored.

    `--reset NAME` (or `--all`) clears a back-off and re-enables a disabled feed: the next run polls it."""
    if format not in ("text", "jsonl"):
        raise Fail(f"--format must be text or jsonl, not {format!r}", EXIT_USAGE)
    if reset in ("--all", "--reset-all"):  # `--reset --all`: click reads --all as the value of --reset
        reset, all_feeds = None, True
    if all_feeds and reset:
        raise Fail("give --reset NAME or --all, not both", EXIT_USAGE)
    if all_feeds:
        reset = ""
    settings = _settings()
    from flows.settings import read_feed_list
    from store import repository as repo

    configured = read_feed_list(settings.feeds, enabled_only=False)
    store = _check_store(settings)
    c = _console()
    if reset is not None:
        chosen = configured if all_feeds else [f for f in configured if reset in (f["name"], f["url"])]
        if not chosen:
            names = ", ".join(repr(f["name"]) for f in configured) or "none"
            raise Fail(f"no feed named {reset!r} in {settings.feeds} (feeds: {_clip(names, 200)})", EXIT_USAGE)
        for f in chosen:
            was = repo.reset_feed(store, f["url"])
            c.print(f"reset {f['name']}: " + ("back-off cleared, enabled; the next run polls it" if was
                                               else "never polled, nothing to reset"))
        return
    rows = feed_health(configured, {f.url: f for f in repo.all_feeds(store)}, repo.articles_per_origin(store),
                       repo.now())
    if format == "jsonl":
        for r in rows:
            print(_jsonl(r))
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, pad_edge=False, show_edge=False)
    for col in ("name", "url", "state", "last success", "failures", "next try", "articles"):
        table.add_column(col, justify="right" if col in ("failures", "articles") else "left", overflow="fold")
    for r in rows:
        # cells are untrusted text too (names and URLs from the feed list): inert, never markup
        table.add_row(*(Text(inert(str(v), keep_newlines=False)) for v in (
            r["name"], r["url"], r["state"], r["last_success"] or "-", r["consecutive_failures"], r["next_try"],
            r["articles"])))
    c.print(table)
    for r in rows:
        if r["problem"]:
            c.print(f"  {r['name']}: {r['problem']}")


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


@app.command()
def serve():
    """Serve the daily schedule (default 07:00 Asia/Seoul) as Prefect deployments."""
    settings = _settings()
    from alerts.deliver import parse_channels
    from flows.settings import check_schedule, read_feed_list

    # everything the scheduled runs need, checked before any server starts
    read_feed_list(settings.feeds)
    check_schedule(settings)
    parse_channels(settings.alert_urls)
    _check_store(settings)
    c = _console()
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


@app.command()
def demo(send: bool = typer.Option(False, "--send", help="deliver the demo's alert through the configured channels (KSTANCE_ALERT_URLS)")):
    """Serve a bundled sample feed on 127.0.0.1, run one full cycle on it, print the stance table and alerts."""
    from flows.demo import run_demo

    run_demo(_console(), send=send)


# -- helpers --------------------------------------------------------------------------------------

def _check_store(settings):
    return settings.open_store()


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


def _check_out_dir(label: str, path: Path | None) -> None:
    """An output folder that exists as a folder, or can be made: checked before any work."""
    if path is None:
        return
    if path.exists() and not path.is_dir():
        raise Fail(f"{label} {path}: exists and is not a folder", EXIT_USAGE)
    probe = path
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise Fail(f"{label} {path}: {probe} is not a folder", EXIT_USAGE)
    if not os.access(probe, os.W_OK | os.X_OK):
        raise Fail(f"{label} {path}: {probe} is not writable", EXIT_USAGE)


def _reference(settings) -> dict:
    meta_path = settings.model_artifact / "model.json"
    if meta_path.exists():
        return json.loads(meta_path.read_text()).get("reference_profile", {})
    return {}


def _run_monitor(settings, today: str | None) -> dict:
    from alerts.deliver import parse_channels
    from flows.settings import read_feed_list

    parse_channels(settings.alert_urls)  # bad URLs and feed lists are named before any work
    read_feed_list(settings.feeds)
    _check_store(settings)
    from prefect.task_runners import ThreadPoolTaskRunner

    from flows.lock import store_lock
    from flows.monitor import monitor

    from flows import progress

    err = _console(stderr=True)
    progress.listen_lines(lambda line: err.print(line, soft_wrap=True))  # one line each, however long
    try:
        with store_lock(settings.home, settings.db_url, "run", settings.db_busy_timeout_s):
            flow = monitor.with_options(task_runner=ThreadPoolTaskRunner(max_workers=settings.max_concurrent_requests))
            result = _quiet_flow(flow, today)
    finally:
        progress.clear()
    return result


def _quiet_flow(fn, *args):
    """Run a flow with Prefect's shutdown chatter ('Error flushing events' and the like) kept off the terminal."""
    for name in ("prefect", "prefect.events", "prefect._internal", "httpx", "uvicorn", "distributed", "dask"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    return fn(*args)


def _print_cycle(result: dict) -> None:
    c = _console()
    for f in result["feeds"]:
        if f["status"] == "error":
            c.print(f"feed {f['feed']}: error: {f['error']}", style="red")
        elif f["status"] in ("disabled", "backing off"):
            c.print(f"feed {f['feed']}: {f['status']}: {f['error']}", style="yellow")
        else:
            c.print(f"feed {f['feed']}: {f['status']}, {f.get('new', 0)} new, {f.get('seen', 0)} already seen")
    c.print(f"judged {result['judged']} articles ({result['judgments']} judgments); duplicates {result['duplicates']}; "
            f"shifts {result['shifts']}; new alerts {len(result['new_alerts'])}; delivered {result['delivered']}")
    for reason, n in result["skipped"].items():
        c.print(f"  skipped {n}: {reason}")
    for line in result["delivery_failures"]:
        c.print(f"  delivery failed: {line}", style="red")
    for line in result.get("delivery_unknown", []):
        c.print(f"  delivery outcome unknown (not resent): {line}; check the channel, then "
                "`kstance alerts --retry ID` or `--drop ID`", style="yellow")


def _clip(text: str, n: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "\u2026"


# Errors the user can cause or meet, by (module, class): checked only when their module was imported, so a usage
# error never pays for importing torch or apprise. The first group exits 2 (bad input or configuration).
_USAGE_ERRORS = (("flows.settings", "SettingsError"), ("extractors.archives", "UnsupportedArchive"),
                 ("alerts.deliver", "BadAlertURL"))
_RUN_ERRORS = (("store.repository", "StoreError"), ("classifiers.encoder", "ModelNotFound"), ("flows.lock", "StoreBusy"))


def _is_one_of(exc: BaseException, names) -> bool:
    for module, cls in names:
        mod = sys.modules.get(module)
        if mod is not None and isinstance(exc, getattr(mod, cls)):
            return True
    return False


def main() -> None:
    if len(sys.argv) == 1:  # `kstance` alone: the help, on stdout, exit 0
        sys.argv.append("--help")
    try:
        code = app(standalone_mode=False)  # --help and --version return 0 here instead of exiting
        if isinstance(code, int) and code:
            sys.exit(code)
    except Fail as exc:
        _die(str(exc), exc.code)
    except KeyboardInterrupt:
        _die("interrupted", 130)
    except Exception as exc:  # usage errors, anything unforeseen: still one line
        if _is_one_of(exc, _USAGE_ERRORS):
            _die(str(exc), EXIT_USAGE)
        if _is_one_of(exc, _RUN_ERRORS) or isinstance(exc, FileNotFoundError):
            _die(str(exc), EXIT_FAILED)
        _click_error(exc)
        _die(f"unexpected error: {type(exc).__name__}: {_clip(str(exc), 300)} (set KSTANCE_DEBUG=1 for details)",
             EXIT_FAILED, debug=True)


def _click_errors() -> list:
    """The click that typer raises from: typer >= 0.29 vendors its own (`typer._click`), older ones use click."""
    found = []
    for name in ("typer._click.exceptions", "click.exceptions"):
        try:
            found.append(importlib.import_module(name))
        except ImportError:
            pass
    return found


def _click_error(exc: BaseException) -> None:
    """A usage error (typo, unknown option, missing argument, bad value): one line naming it, exit 2."""
    if isinstance(exc, typer.Abort):
        _die("aborted", 130)
    if isinstance(exc, typer.Exit):
        sys.exit(exc.exit_code)
    for ex in _click_errors():
        if isinstance(exc, ex.UsageError):
            hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
            _die(f"{_one_line(exc.format_message())}{hint}", EXIT_USAGE)
        if isinstance(exc, ex.ClickException):
            _die(_one_line(exc.format_message()), EXIT_USAGE)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _die(message: str, code: int, debug: bool = False) -> None:
    if debug and os.environ.get("KSTANCE_DEBUG"):
        import traceback

        traceback.print_exc()
    print(f"kstance: error: {inert(message, keep_newlines=False)}", file=sys.stderr)
    sys.stdout.flush()
    os._exit(code) if code == 130 else sys.exit(code)


from flows import cli_analyst  # noqa: E402,F401  (registers judgments, mute, unmute)

if __name__ == "__main__":
    main()
