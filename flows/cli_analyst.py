"""The analyst's commands on the kstance command line: `judgments`, `mute`, `unmute`, and the `--test` and
`--ack` actions of `alerts`. Registered on flows.cli's app (imported at the end of flows/cli.py)."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Optional

import typer

from flows.analyst import AnalystError
from flows.cli import EXIT_FAILED, EXIT_USAGE, Fail, _check_store, _clip, _console, _settings, app


@contextmanager
def _usage_errors():
    try:
        yield
    except AnalystError as exc:
        raise Fail(str(exc), EXIT_USAGE) from None


def alerts_action(test: bool, ack: str | None) -> None:
    from flows import analyst

    with _usage_errors():
        settings = _settings()
        if ack:
            store = _check_store(settings)
            alert_id = analyst.ack_alert(store, ack)
            _console().print(f"acknowledged {alert_id}")
        if test:
            c = _console()
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
    settings = _settings()
    store = _check_store(settings)
    records = analyst.judgment_records(store, actor=actor, since=first, until=last, stance=stance)
    if format == "csv":
        sys.stdout.write(analyst.judgments_csv(records))
        return
    if format == "jsonl":
        sys.stdout.write(analyst.judgments_jsonl(records))
        return
    c = _console()
    for r in records:
        c.print(f"{r['date'] or 'no date'}  {r['actor']}  {r['stance']:<15} score {r['score']:+.2f}  "
                f"confidence {r['confidence']:.2f}  {r['outlet'] or '-'}: {_clip(r['title'], 80)}", markup=False)
        c.print(f"    {r['url']}", markup=False)
        for e in r["evidence"][:3]:
            c.print(f"    \u201c{_clip(e, 150)}\u201d", markup=False)
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
    store = _check_store(_settings())
    repo.set_mute(store, code, day)
    _console().print(f"{code} muted through {day.isoformat()}: its alerts are recorded, marked muted, not sent")


@app.command()
def unmute(actor: str = typer.Argument(..., help="US, CN, JP, KP or RU")):
    """End a target's mute: its next alerts are sent again."""
    from flows import analyst
    from store import repository as repo

    with _usage_errors():
        code = analyst.parse_actor(actor, "ACTOR")
    store = _check_store(_settings())
    was = repo.clear_mute(store, code)
    _console().print(f"{code} unmuted" if was else f"{code} was not muted")
