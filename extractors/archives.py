"""Streaming readers for backfill archives: JSONL(.gz), WARC(.gz) and folders of .html/.json/.txt files.

Each reader yields Articles one at a time (constant memory, whatever the archive's size) and
ArchiveProblems for what it could not read, with the place (line number, record offset, file name).
"""
from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator, Union

from extractors.article import Article
from extractors.text import article_from_text, extract_article, parse_date
from extractors.urls import canonical_url


@dataclass(frozen=True)
class ArchiveProblem:
    where: str  # "archive.jsonl:17", "pages/x.html"
    reason: str


Item = Union[Article, ArchiveProblem]

class UnsupportedArchive(ValueError):
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


class BadField(ValueError):
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
        # utf-8-sig: a byte-order mark at the start of the file is not part of the first record
        with opener(path, "rt", encoding="utf-8-sig", errors="replace") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                where = f"{path.name}:{lineno}"
                try:
                    rec = json.loads(line)
                except ValueError as exc:
                    yield ArchiveProblem(where, f"broken JSON line: {str(exc)[:100]}")
                    continue
                try:
                    yield record_to_article(rec, where)
                except Exception as exc:  # one record's surprise (an extractor bug) must not end the archive
                    yield ArchiveProblem(where, f"unreadable record: {type(exc).__name__}: {str(exc)[:120]}")
    except (OSError, EOFError) as exc:  # truncated gzip, unreadable file
        yield ArchiveProblem(path.name, f"archive cut short: {str(exc)[:160]}")


def read_warc(path: Path) -> Iterator[Item]:
    from warcio.archiveiterator import ArchiveIterator

    try:
        with open(path, "rb") as fh:
            it = ArchiveIterator(fh)
            for record in it:
                if record.rec_type != "response":
                    continue
                url = record.rec_headers.get_header("WARC-Target-URI") or ""
                ctype = (record.http_headers.get_header("Content-Type") if record.http_headers else "") or ""
                if "html" not in ctype.lower():
                    continue
                status = record.http_headers.get_statuscode() if record.http_headers else "200"
                if not str(status).startswith("2"):
                    continue
                body = record.content_stream().read()
                where = f"{path.name}@{it.get_record_offset()}"
                date = record.rec_headers.get_header("WARC-Date")
                try:
                    canonical = canonical_url(url)
                except ValueError as exc:
                    yield ArchiveProblem(where, f"bad url: {exc}")
                    continue
                art = extract_article(body, url, canonical=canonical)
                if art.published is None and date:  # the crawl date, when the page gives none
                    art = replace(art, published=parse_date(date))
                yield art
    except Exception as exc:  # warcio raises plain Exceptions on truncated or non-WARC input
        yield ArchiveProblem(path.name, f"WARC unreadable: {type(exc).__name__}: {str(exc)[:140]}")


def read_folder(path: Path) -> Iterator[Item]:
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        name = f.name.lower()
        rel = str(f.relative_to(path))
        if name.endswith(".meta.json"):
            continue
        try:
            if name.endswith((".html", ".htm")):
                meta = _sidecar(f)
                try:
                    url = text_field(meta, "url", numbers=False) or f.resolve().as_uri()
                    title, source = text_field(meta, "title"), text_field(meta, "source")
                    published = text_field(meta, "date") or text_field(meta, "published")
                except BadField as exc:
                    yield ArchiveProblem(rel, f"{f.name.rsplit('.', 1)[0]}.meta.json: {exc}")
                    continue
                yield extract_article(f.read_bytes(), url, canonical=canonical_url(url),
                                      title=title, published=published, source=source)
            elif name.endswith(".json"):
                rec = json.loads(f.read_text(encoding="utf-8-sig"))
                yield record_to_article(rec, rel)
            elif name.endswith(".txt"):
                url = f.resolve().as_uri()
                yield article_from_text(no_nul(f.read_text(encoding="utf-8-sig", errors="replace")), url, canonical=url)
        except (OSError, ValueError) as exc:
            yield ArchiveProblem(rel, f"unreadable: {type(exc).__name__}: {str(exc)[:140]}")
        except Exception as exc:  # one file's surprise must not end the folder
            yield ArchiveProblem(rel, f"unreadable: {type(exc).__name__}: {str(exc)[:140]}")


def _sidecar(html_path: Path) -> dict:
    meta = html_path.with_name(html_path.name.rsplit(".", 1)[0] + ".meta.json")
    if meta.exists():
        try:
            data = json.loads(meta.read_text(encoding="utf-8-sig"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}
    return {}
