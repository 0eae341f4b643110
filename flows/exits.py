"""The command line's exit policy: every failure the user can cause or meet ends in one line on stderr and an exit
code, never a traceback. A KstanceError carries its own code (vocab.errors: 2 for bad input or configuration, 1 for
a run that could not finish); a click usage error exits 2, Ctrl-C 130, anything unforeseen 1 with one line (and the
traceback with KSTANCE_DEBUG=1). Imports nothing heavy: a usage error never pays for torch or apprise."""
from __future__ import annotations

import importlib
import os
import sys

import typer

from flows.console import clip, inert, one_line
from vocab.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, KstanceError


class Fail(KstanceError):
    """Ends the command with this message and exit code."""

    def __init__(self, message: str, code: int = EXIT_FAILED):
        super().__init__(message)
        self.exit_code = code

    @property
    def code(self) -> int:
        return self.exit_code


def run_app(app: typer.Typer) -> None:
    """Run the command line app; whatever ends it becomes an exit code."""
    if len(sys.argv) == 1:  # `kstance` alone: the help, on stdout, exit 0
        sys.argv.append("--help")
    try:
        code = app(standalone_mode=False)  # --help and --version return 0 here instead of exiting
        if isinstance(code, int) and code:
            sys.exit(code)
    except KeyboardInterrupt:
        die("interrupted", EXIT_INTERRUPTED)
    except KstanceError as exc:
        die(str(exc), exc.exit_code)
    except FileNotFoundError as exc:
        die(str(exc), EXIT_FAILED)
    except Exception as exc:  # usage errors, anything unforeseen: still one line
        click_error(exc)
        die(f"unexpected error: {type(exc).__name__}: {clip(str(exc), 300)} (set KSTANCE_DEBUG=1 for details)",
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


def click_error(exc: BaseException) -> None:
    """A usage error (typo, unknown option, missing argument, bad value): one line naming it, exit 2."""
    if isinstance(exc, typer.Abort):
        die("aborted", EXIT_INTERRUPTED)
    if isinstance(exc, typer.Exit):
        sys.exit(exc.exit_code)
    for ex in _click_errors():
        if isinstance(exc, ex.UsageError):
            hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
            die(f"{one_line(exc.format_message())}{hint}", EXIT_USAGE)
        if isinstance(exc, ex.ClickException):
            die(one_line(exc.format_message()), EXIT_USAGE)


def die(message: str, code: int, debug: bool = False) -> None:
    if debug and os.environ.get("KSTANCE_DEBUG"):
        import traceback

        traceback.print_exc()
    print(f"kstance: error: {inert(message, keep_newlines=False)}", file=sys.stderr)
    sys.stdout.flush()
    os._exit(code) if code == EXIT_INTERRUPTED else sys.exit(code)
