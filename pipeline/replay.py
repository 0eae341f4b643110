"""Archives replayed through the pipeline: their articles in batches, in archive order, screened, judged and stored
in that order, whatever judges them (this process or Dask workers)."""
from __future__ import annotations

from collections import deque
from datetime import date
from pathlib import Path
from typing import Callable, Iterator

from extractors.archives import ArchiveProblem, archive_kind, bounded_lines, read_archive
from extractors.article import Article
from extractors.dedup import Deduplicator
from pipeline.batch import BatchSummary, Screened, screen_articles
from store import repository as repo

BATCH = 64


def archive_batches(sources: list[str], since: date | None, until: date | None, summary: BatchSummary,
             problems: list[str], unreadable: list[str] | None = None) -> Iterator[tuple[str, list[Article]]]:
    """Batches of articles in archive order. A source that gave problems and not one record goes to `unreadable`."""
    for src in sources:
        batch: list[Article] = []
        records = failed = 0
        for item in read_archive(src):
            if isinstance(item, ArchiveProblem):
                problems.append(f"{item.where}: {item.reason}")
                failed += 1
                continue
            records += 1
            day = item.published
            if (since and day and day < since) or (until and day and day > until):
                summary.skip("outside --since/--until")
                summary.read += 1
                continue
            batch.append(item)
            if len(batch) >= BATCH:
                yield src, batch
                batch = []
        if batch:
            yield src, batch
        if failed and not records and unreadable is not None:
            unreadable.append(src)


def estimate_items(sources: list[str]) -> int | None:
    """How many records the sources hold, where that is cheap to know (JSONL lines, folder files); None for WARC."""
    import gzip
    import zlib

    total = 0
    for src in sources:
        p = Path(src)
        kind = archive_kind(p)
        if kind == "warc":
            return None
        if kind == "folder":
            total += sum(1 for f in p.rglob("*") if f.is_file() and not f.name.endswith(".meta.json"))
            continue
        opener = gzip.open if p.name.endswith(".gz") else open
        try:
            with opener(p, "rb") as fh:  # line by line with a size limit: a 200 MB line is never held whole
                total += sum(1 for _, line, _ in bounded_lines(fh, 1 << 16) if line is None or line.strip())
        except (OSError, EOFError, zlib.error):
            return None
    return total


def replay_batches(store: repo.Store, batches: Iterator[tuple[str, list[Article]]], languages: tuple[str, ...],
                   dedup: Deduplicator, *, judge: Callable[[Screened], Callable[[], list]],
                   settle: Callable[[str, Screened, list], None], window: int = 1) -> None:
    """Each batch screened here, in archive order; `judge` starts the classifier on it and returns what waits for
    its verdicts; `settle` stores a batch with its verdicts, in submission order, so the store sees archive order
    however many batches are judged at once (`window`)."""
    in_flight: deque[tuple[str, Screened, Callable[[], list]]] = deque()
    for src, batch in batches:
        screened = screen_articles(store, languages, batch, dedup)
        if not screened.to_judge:
            settle(src, screened, [])
            continue
        in_flight.append((src, screened, judge(screened)))
        while len(in_flight) >= window:
            s, sc, verdicts = in_flight.popleft()
            settle(s, sc, verdicts())
    while in_flight:
        s, sc, verdicts = in_flight.popleft()
        settle(s, sc, verdicts())
