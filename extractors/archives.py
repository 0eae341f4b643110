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


def record_to_article(rec: dict, where: str) -> Item:
    """One archive/JSON record -> Article: `url`, `title`, `published`, `text` or `html`, optional `source`."""
    if not isinstance(rec, dict):
        return ArchiveProblem(where, "record is not a JSON object")
    url = rec.get("url")
    if not isinstance(url, str) or not url.strip():
        return ArchiveProblem(where, "record has no url")
    title = str(rec.get("title") or "")
    published = rec.get("published") or rec.get("date")
    source = str(rec.get("source") or "")
    try:
        canonical = canonical_url(url)
    except ValueError as exc:
        return ArchiveProblem(where, f"bad url: {exc}")
    if isinstance(rec.get("text"), str) and rec["text"].strip():
        return article_from_text(rec["text"], url, canonical=canonical, title=title, published=published, source=source)
    if isinstance(rec.get("html"), str) and rec["html"].strip():
        return extract_article(rec["html"], url, canonical=canonical, title=title or None,
                               published=published, source=source or None)
    return ArchiveProblem(where, "record has neither text nor html")


def read_jsonl(path: Path) -> Iterator[Item]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                where = f"{path.name}:{lineno}"
                try:
                    rec = json.loads(line)
                except ValueError as exc:
                    yield ArchiveProblem(where, f"broken JSON line: {str(exc)[:100]}")
                    continue
                yield record_to_article(rec, where)
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
                url = meta.get("url") or f.resolve().as_uri()
                yield extract_article(f.read_bytes(), url, canonical=canonical_url(url),
                                      title=meta.get("title"), published=meta.get("date") or meta.get("published"),
                                      source=meta.get("source"))
            elif name.endswith(".json"):
                rec = json.loads(f.read_text(encoding="utf-8"))
                yield record_to_article(rec, rel)
            elif name.endswith(".txt"):
                url = f.resolve().as_uri()
                yield article_from_text(f.read_text(encoding="utf-8", errors="replace"), url, canonical=url)
        except (OSError, ValueError) as exc:
            yield ArchiveProblem(rel, f"unreadable: {type(exc).__name__}: {str(exc)[:140]}")


def _sidecar(html_path: Path) -> dict:
    meta = html_path.with_name(html_path.name.rsplit(".", 1)[0] + ".meta.json")
    if meta.exists():
        try:
            data = json.loads(meta.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}
    return {}
