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
    _sayers.clear()


def notify(done: int, problems: int) -> None:
    for fn in list(_listeners):
        fn(done, problems)


_sayers: list[Callable[[str], None]] = []


def listen_lines(fn: Callable[[str], None]) -> None:
    """Progress lines ("[2/5] Yonhap: 3 new, judging"): the command line prints them on stderr."""
    _sayers.append(fn)


def say(line: str) -> None:
    import logging

    logging.getLogger("kstance.progress").info(line)
    for fn in list(_sayers):
        fn(line)
