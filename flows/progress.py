"""Progress listeners for long flows (the command line's progress bar).

Kept out of the flow modules on purpose: Prefect ships a flow's function to Dask workers by value, with the module
globals its code refers to, and a live progress bar (threads, locks) cannot travel. The flow calls `notify`, a
function of this importable module, which is pickled by reference."""
from __future__ import annotations

from typing import Callable

_listeners: list[Callable[[int, int], None]] = []


def listen(fn: Callable[[int, int], None]) -> None:
    _listeners.append(fn)


def clear() -> None:
    _listeners.clear()


def notify(done: int, problems: int) -> None:
    for fn in list(_listeners):
        fn(done, problems)
