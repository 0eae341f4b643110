"""The kstance command's app and what every command shares: settings, dates and output folders checked before any
work. The commands themselves live in flows/cli_run.py, cli_store.py and cli_analyst.py; flows/cli.py runs them."""
from __future__ import annotations

import os
from pathlib import Path

import typer

from flows.console import console
from flows.exits import Fail
from vocab.errors import EXIT_USAGE

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  rich_markup_mode=None, help="Watch Korean foreign-policy news for shifts in Seoul's stance.")


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            console().print(f"kstance {version('kstance')}")
        except PackageNotFoundError:  # run from a checkout that was not installed
            console().print("kstance (not installed)")
        raise typer.Exit()


@app.callback()
def _root(_version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                        help="print the version and exit")):
    """Watch Korean foreign-policy news for shifts in Seoul's stance."""


def cli_settings(**overrides):
    """The settings (the environment and kstance.toml, then `overrides`), with Prefect's environment prepared."""
    from flows.settings import load_settings, prepare_prefect_env

    s = load_settings(**overrides)
    prepare_prefect_env(s.home)
    return s


def check_out_dir(label: str, path: Path | None) -> None:
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


def check_format(format: str, allowed: tuple[str, ...] = ("text", "jsonl")) -> None:
    if format not in allowed:
        raise Fail(f"--format must be {', '.join(allowed[:-1])} or {allowed[-1]}, not {format!r}", EXIT_USAGE)
