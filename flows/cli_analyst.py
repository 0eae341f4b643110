"""The analyst's commands on the kstance command line: `judgments`, `mute`, `unmute`, and the `--test` and
`--ack` actions of `alerts`. Registered on the app of flows/cli_app.py (flows/cli.py imports this module)."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Optional

import typer

from flows.analyst import AnalystError
from flows.cli_app import app, cli_settings
from flows.console import clip, console
from flows.exits import Fail
from vocab.errors import EXIT_FAILED, EXIT_USAGE


@contextmanager
def _usage_errors():
    try:
        yield
    except AnalystError as exc:
        raise Fail(str(exc), EXIT_USAGE) from None


def alerts_action(test: bool, ack: str | None) -> None:
    from flows import analyst

    with _usage_errors():
        settings = cli_settings()
        if ack:
            store = settings.open_store()
            alert_id = analyst.ack_alert(store, ack)
            console().print(f"acknowledged {alert_id}")
        if test:
            c = console()
            sent, failed = analyst.check_channels(settings, c)
            if failed:
                raise Fail(f"the test message failed on {failed} of {sent + failed} channels", EXIT_FAILED)
            c.print(f"test message sent through {sent} channel{'s' if sent != 1 else ''}")


@app.command()
def judgments(actor: Optional[str] = typer.Option(None, "--actor", help="US, CN, JP, KP or RU"),
              since: Optional[str] = typer.Option(None, help="articles published on or after YYYY-MM-DD"),
              until: Optional[str] = typer.Option(None, help="articles published on or before YYYY-MM-DD"),
              stance: Optional[str] = typer.Option(None, help="cooperative, neutral or confrontational"),
              format: str = typer.Option("text", "--format", help="text, jsonl or csv")):
    """The stored judgments: date, outlet, title, link, stance, score, confidence and evidence."""
    from flows import analyst

    with _usage_errors():
        if format not in ("text", "jsonl", "csv"):
            raise AnalystError(f"--format must be text, jsonl or csv, not {format!r}")
        if stance is not None and stance not in ("cooperative", "neutral", "confrontational"):
            raise AnalystError(f"--stance must be cooperative, neutral or confrontational, not {stance!r}")
        actor = analyst.parse_actor(actor)
        first, last = analyst.parse_day("--since", since), analyst.parse_day("--until", until)
        if first and last and first > last:
            raise AnalystError(f"--since ({since}) is after --until ({until})")
    settings = cli_settings()
    store = settings.open_store()
    records = analyst.judgment_records(store, actor=actor, since=first, until=last, stance=stance)
    if format == "csv":
        sys.stdout.write(analyst.judgments_csv(records))
        return
    if format == "jsonl":
        sys.stdout.write(analyst.judgments_jsonl(records))
        return
    c = console()
    for r in records:
        c.print(f"{r['date'] or 'no date'}  {r['actor']}  {r['stance']:<15} score {r['score']:+.2f}  "
                f"confidence {r['confidence']:.2f}  {r['outlet'] or '-'}: {clip(r['title'], 80)}", markup=False)
        c.print(f"    {r['url']}", markup=False)
        for e in r["evidence"][:3]:
            c.print(f"    \u201c{clip(e, 150)}\u201d", markup=False)
    c.print(f"{len(records)} judgment{'s' if len(records) != 1 else ''}")


@app.command()
def mute(actor: str = typer.Argument(..., help="US, CN, JP, KP or RU"),
         until: str = typer.Option(..., help="muted through this day, YYYY-MM-DD")):
    """Quiet a target (a summit week): its alerts are recorded and marked muted, not sent."""
    from datetime import date

    from flows import analyst
    from store import repository as repo

    with _usage_errors():
        code = analyst.parse_actor(actor, "ACTOR")
        day = analyst.parse_day("--until", until)
        if day < date.today():
            raise AnalystError(f"--until {until} is in the past")
    store = cli_settings().open_store()
    repo.set_mute(store, code, day)
    console().print(f"{code} muted through {day.isoformat()}: its alerts are recorded, marked muted, not sent")


@app.command()
def unmute(actor: str = typer.Argument(..., help="US, CN, JP, KP or RU")):
    """End a target's mute: its next alerts are sent again."""
    from flows import analyst
    from store import repository as repo

    with _usage_errors():
        code = analyst.parse_actor(actor, "ACTOR")
    store = cli_settings().open_store()
    was = repo.clear_mute(store, code)
    console().print(f"{code} unmuted" if was else f"{code} was not muted")
