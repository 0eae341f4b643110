"""One base for every error kstance raises on purpose.

Each class says what the command line does with it (`exit_code`: 2 for bad input or configuration, 1 for a run that
could not finish) and whether trying again later can help (`retryable`: a server down, a lease held by another
writer). The specific errors live beside the code that raises them and derive from one of the two families below.
"""
from __future__ import annotations

EXIT_FAILED = 1  # the run could not finish
EXIT_USAGE = 2  # bad input or configuration: the user must change something
EXIT_INTERRUPTED = 130


class KstanceError(Exception):
    """An error kstance raises on purpose: its message is one line a person can act on."""

    exit_code: int = EXIT_FAILED
    retryable: bool = False


class InputError(KstanceError):
    """Bad input or configuration (a setting, an archive, an alert URL): retrying the same thing cannot help."""

    exit_code = EXIT_USAGE


class RunError(KstanceError):
    """A run that could not finish (store, model, server, lease)."""

    exit_code = EXIT_FAILED
