"""Feed polling: conditional GET, then feedparser on the bytes; RSS, Atom and JSON Feed."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

import feedparser
import httpx

from extractors.http import FetchError, get

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeedEntry:
    url: str
    title: str
    published: str | None  # as the feed gave it; parse_date reads it


@dataclass
class FeedPoll:
    """What one poll of one feed found. `error` is set when the poll failed; entries may still hold
    what could be recovered from a broken document."""
    feed_url: str
    entries: list[FeedEntry] = field(default_factory=list)
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    error: str | None = None


def parse_feed(body: bytes, feed_url: str = "") -> FeedPoll:
    """Parse feed bytes. A malformed document gives what feedparser could recover and the parser's reason."""
    stripped = body.lstrip()
    if stripped.startswith(b"{"):
        return _parse_json_feed(stripped, feed_url)
    parsed = feedparser.parse(body)
    entries = []
    for e in parsed.entries:
        link = e.get("link") or ""
        if not link:
            continue
        published = e.get("published") or e.get("updated") or e.get("created")
        entries.append(FeedEntry(link.strip(), (e.get("title") or "").strip(), published))
    poll = FeedPoll(feed_url, entries)
    if parsed.bozo:
        reason = str(parsed.get("bozo_exception") or "malformed feed").splitlines()[0][:200]
        if not entries or not isinstance(parsed.get("bozo_exception"), feedparser.CharacterEncodingOverride):
            poll.error = f"malformed feed: {reason}" if not entries else None
            if entries:
                log.info("feed %s is malformed but gave %d entries: %s", feed_url, len(entries), reason)
    if not entries and not parsed.feed and poll.error is None:
        poll.error = "not a feed: no channel and no entries"
    return poll


def _parse_json_feed(body: bytes, feed_url: str) -> FeedPoll:
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        return FeedPoll(feed_url, error=f"malformed JSON feed: {str(exc)[:160]}")
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        return FeedPoll(feed_url, error="malformed JSON feed: no items list")
    entries = []
    for item in doc["items"]:
        if isinstance(item, dict) and isinstance(item.get("url"), str):
            entries.append(FeedEntry(item["url"], str(item.get("title") or ""), item.get("date_published")))
    return FeedPoll(feed_url, entries)


def poll_feed(
    feed_url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    client: httpx.Client | None = None,
    allow_private: bool = False,
    timeout: float = 20.0,
) -> FeedPoll:
    """Fetch a feed with conditional GET and parse it. Never raises for network or parser trouble."""
    try:
        r = get(feed_url, client=client, etag=etag, last_modified=last_modified,
                allow_private=allow_private, timeout=timeout)
    except (FetchError, ValueError) as exc:
        return FeedPoll(feed_url, error=str(exc), etag=etag, last_modified=last_modified)
    if r.not_modified:
        return FeedPoll(feed_url, etag=etag, last_modified=last_modified, not_modified=True)
    poll = parse_feed(r.body, feed_url)
    poll.etag, poll.last_modified = r.etag, r.last_modified
    return poll
