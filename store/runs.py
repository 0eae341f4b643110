"""The record of each run: when it started and finished, and its summary."""
from __future__ import annotations

from sqlalchemy import select

from store.engine import Store, now
from store.models import RunRow


def start_run(store: Store, kind: str) -> int:
    with store.session() as s:
        row = RunRow(kind=kind, started=now())
        s.add(row)
        s.flush()
        return row.id


def finish_run(store: Store, run_id: int, summary: dict) -> None:
    with store.session() as s:
        row = s.get(RunRow, run_id)
        if row:
            row.finished, row.summary = now(), summary


def last_runs(store: Store, n: int = 5) -> list[RunRow]:
    with store.session() as s:
        return list(s.scalars(select(RunRow).order_by(RunRow.id.desc()).limit(n)))
