"""Streaming readers for backfill archives: JSONL(.gz), WARC(.gz) and folders of .html/.json/.txt files.

Each reader yields Articles one at a time (constant memory, whatever the archive's size) and
ArchiveProblems for what it could not read, with the place (line number, record offset, file name).
"""
from __future__ import annotations

import gzip
import json
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator, Union

from extractors.article import Article
from extractors.text import article_from_text, extract_article, parse_date
from extractors.urls import canonical_url
from vocab.errors import InputError

MAX_RECORD_BYTES = 10 * 1024 * 1024  # one article record (JSONL line, WARC payload, folder file): as the fetch cap


@dataclass(frozen=True)
class ArchiveProblem:
    where: str  # "archive.jsonl:17", "pages/x.html"
    reason: str


Item = Union[Article, ArchiveProblem]

class UnsupportedArchive(InputError, ValueError):
    pass


def archive_kind(path: Path) -> str:
    name = path.name.lower()
    if not path.exists():
        raise UnsupportedArchive(f"{path}: no such file or folder")
    if path.is_dir():
        return "folder"
    if name.endswith((".jsonl", ".jsonl.gz", ".ndjson")):
        return "jsonl"
    if name.endswith((".warc", ".warc.gz")):
        return "warc"
    raise UnsupportedArchive(f"{path}: not a supported archive (.jsonl, .jsonl.gz, .warc, .warc.gz or a folder)")


def read_archive(path: str | Path) -> Iterator[Item]:
    path = Path(path)
    kind = archive_kind(path)
    if kind == "jsonl":
        return read_jsonl(path)
    if kind == "warc":
        return read_warc(path)
    return read_folder(path)


class BadField(InputError, ValueError):
    """A record field of the wrong type: a problem for that record only."""


def no_nul(text: str) -> str:
    """NUL characters removed: PostgreSQL refuses them in text, and no article needs them."""
    return text.replace("\x00", "") if "\x00" in text else text


def text_field(rec: dict, name: str, *, numbers: bool = True) -> str | None:
    """A record's field as text: a string (NULs removed), a number written out (if `numbers`), or None; anything
    else (a list, an object, true/false) is a BadField naming the field."""
    value = rec.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float) if numbers else str):
        raise BadField(f"field {name!r} is {type(value).__name__}, not text")
    return no_nul(str(value))


def record_to_article(rec: dict, where: str) -> Item:
    """One archive/JSON record -> Article: `url`, `title`, `published`, `text` or `html`, optional `source`.
    Every field is checked: a wrong type or a NUL character is a problem for this record, never for the archive."""
    if not isinstance(rec, dict):
        return ArchiveProblem(where, "record is not a JSON object")
    try:
        url = rec.get("url")
        if url is not None and not isinstance(url, str):
            raise BadField(f"field 'url' is {type(url).__name__}, not text")
        url = no_nul(url or "").strip()
        if not url:
            return ArchiveProblem(where, "record has no url")
        title = text_field(rec, "title") or ""
        published = text_field(rec, "published") or text_field(rec, "date")
        source = text_field(rec, "source") or ""
        text = text_field(rec, "text")
        body = text_field(rec, "html")
    except BadField as exc:
        return ArchiveProblem(where, str(exc))
    try:
        canonical = canonical_url(url)
    except ValueError as exc:
        return ArchiveProblem(where, f"bad url: {exc}")
    if text and text.strip():
        return article_from_text(text, url, canonical=canonical, title=title, published=published, source=source)
    if body and body.strip():
        return extract_article(body, url, canonical=canonical, title=title or None,
                               published=published, source=source or None)
    return ArchiveProblem(where, "record has neither text nor html")


def read_jsonl(path: Path) -> Iterator[Item]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            for lineno, raw, size in bounded_lines(fh, MAX_RECORD_BYTES):
                where = f"{path.name}:{lineno}"
                if raw is None:
                    yield ArchiveProblem(where, f"record too large ({size} bytes > {MAX_RECORD_BYTES}); skipped")
                    continue
                # utf-8-sig on the first line: a byte-order mark at the start of the file is not part of the record
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8", "replace")
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except ValueError as exc:
                    yield ArchiveProblem(where, f"broken JSON line: {str(exc)[:100]}")
                    continue
                try:
                    yield record_to_article(rec, where)
                except Exception as exc:  # one record's surprise (an extractor bug) must not end the archive
                    yield ArchiveProblem(where, f"unreadable record: {type(exc).__name__}: {str(exc)[:120]}")
    except (OSError, EOFError, zlib.error) as exc:  # truncated gzip, unreadable file
        yield ArchiveProblem(path.name, f"archive cut short: {str(exc)[:160]}")


def bounded_lines(fh, limit: int) -> Iterator[tuple[int, bytes | None, int]]:
    """(line number, line, size) for each line of a binary file, never holding more than `limit` bytes of one
    line: a longer line is skipped chunk by chunk and comes back as (number, None, its size)."""
    lineno = 0
    while True:
        line = fh.readline(limit + 1)
        if not line:
            return
        lineno += 1
        if len(line) > limit and not line.endswith(b"\n"):
            size = len(line)
            del line
            while True:
                more = fh.readline(1 << 20)
                size += len(more)
                if not more or more.endswith(b"\n"):
                    break
            yield lineno, None, size
            continue
        yield lineno, line, len(line)


def read_warc(path: Path) -> Iterator[Item]:
    """Response records with HTML, one at a time. A record the archive cuts short is named as such; a corrupt
    record is reported (its bytes never quoted) and reading goes on from the next record boundary found."""
    from warcio.archiveiterator import ArchiveIterator

    size = path.stat().st_size
    gz = path.name.lower().endswith(".gz")
    start, resyncing = 0, False
    with open(path, "rb") as fh:
        while start < size:
            fh.seek(start)
            it = ArchiveIterator(fh)
            at = start
            try:
                for record in it:
                    at = it.offset
                    resyncing = False
                    item = _warc_item(record, path, at)
                    if item is not None:
                        yield item
                end = it.offset  # where the next record would start: short of the file's end, the last one is cut
                if 0 <= end < size and not resyncing:
                    yield ArchiveProblem(f"{path.name}@{end}", f"record cut short: the archive ends {size - end} bytes "
                                                               "into a record it does not finish")
                return
            except Exception as exc:  # warcio raises plain Exceptions (and zlib errors) on corrupt or non-WARC input
                at = getattr(it, "offset", at) or at
                nxt = _next_boundary(fh, at + 1, gz)
                if not resyncing:
                    kind = type(exc).__name__
                    skipped = (f"skipped to the next record at byte {nxt}" if nxt is not None
                               else "nothing readable after it")
                    yield ArchiveProblem(f"{path.name}@{at}", f"corrupt WARC record ({kind}); {skipped}")
                if nxt is None:
                    return
                start, resyncing = nxt, True


def _warc_item(record, path: Path, offset: int) -> Item | None:
    if record.rec_type != "response":
        return None
    url = record.rec_headers.get_header("WARC-Target-URI") or ""
    ctype = (record.http_headers.get_header("Content-Type") if record.http_headers else "") or ""
    if "html" not in ctype.lower():
        return None
    status = record.http_headers.get_statuscode() if record.http_headers else "200"
    if not str(status).startswith("2"):
        return None
    where = f"{path.name}@{offset}"
    body = record.content_stream().read(MAX_RECORD_BYTES + 1)
    if len(body) > MAX_RECORD_BYTES:
        return ArchiveProblem(where, f"record too large (over {MAX_RECORD_BYTES} bytes); skipped")
    missing = getattr(record.raw_stream, "limit", 0)
    if missing > 0:  # the file ends inside this record: a truncated download or copy
        return ArchiveProblem(where, f"record cut short: the archive ends {missing} bytes before this record does")
    date = record.rec_headers.get_header("WARC-Date")
    try:
        canonical = canonical_url(url)
    except ValueError as exc:
        return ArchiveProblem(where, f"bad url: {exc}")
    art = extract_article(body, url, canonical=canonical)
    if art.published is None and date:  # the crawl date, when the page gives none
        art = replace(art, published=parse_date(date))
    return art


def _next_boundary(fh, pos: int, gz: bool) -> int | None:
    """Where the next record could start at or after `pos`: a gzip member's magic bytes, or a WARC version line."""
    marker = b"\x1f\x8b\x08" if gz else b"\nWARC/1."
    shift = 0 if gz else 1
    fh.seek(max(0, pos - shift))
    base, tail = fh.tell(), b""
    while True:
        chunk = fh.read(1 << 20)
        if not chunk:
            return None
        data = tail + chunk
        i = data.find(marker)
        if i >= 0:
            return base - len(tail) + i + shift
        tail = data[-(len(marker) - 1):]
        base += len(chunk)


def read_folder(path: Path) -> Iterator[Item]:
    root = path.resolve()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        name = f.name.lower()
        rel = str(f.relative_to(path))
        if name.endswith(".meta.json"):
            continue
        real = f.resolve()
        if not real.is_relative_to(root):  # a symlink out of the folder: never read what the archive does not hold
            yield ArchiveProblem(rel, "skipped: a link to a file outside the folder")
            continue
        try:
            size = real.stat().st_size
            if size > MAX_RECORD_BYTES:
                yield ArchiveProblem(rel, f"record too large ({size} bytes > {MAX_RECORD_BYTES}); skipped")
                continue
            if name.endswith((".html", ".htm")):
                meta = _sidecar(f, root)
                try:
                    url = text_field(meta, "url", numbers=False) or real.as_uri()
                    title, source = text_field(meta, "title"), text_field(meta, "source")
                    published = text_field(meta, "date") or text_field(meta, "published")
                except BadField as exc:
                    yield ArchiveProblem(rel, f"{f.name.rsplit('.', 1)[0]}.meta.json: {exc}")
                    continue
                yield extract_article(real.read_bytes(), url, canonical=canonical_url(url),
                                      title=title, published=published, source=source)
            elif name.endswith(".json"):
                rec = json.loads(real.read_text(encoding="utf-8-sig"))
                yield record_to_article(rec, rel)
            elif name.endswith(".txt"):
                url = real.as_uri()
                yield article_from_text(no_nul(real.read_text(encoding="utf-8-sig", errors="replace")), url,
                                        canonical=url)
        except Exception as exc:  # an unreadable file, broken JSON, or any one file's surprise: never the folder's
            yield ArchiveProblem(rel, f"unreadable: {type(exc).__name__}: {str(exc)[:140]}")


def _sidecar(html_path: Path, root: Path) -> dict:
    meta = html_path.with_name(html_path.name.rsplit(".", 1)[0] + ".meta.json")
    if meta.exists() and meta.resolve().is_relative_to(root) and meta.stat().st_size <= MAX_RECORD_BYTES:
        try:
            data = json.loads(meta.read_text(encoding="utf-8-sig"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}
    return {}
