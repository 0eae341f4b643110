"""From a feed to Articles: poll it, fetch the pages of entries not seen before, extract them."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Callable
from urllib.parse import urlsplit

import httpx

from extractors.article import UNEXTRACTABLE, Article
from extractors.feeds import FeedPoll, poll_feed
from extractors.http import FetchError, get, new_client
from extractors.text import article_from_text, extract_article
from extractors.urls import RefusedURL, canonical_url


class RobotsRules:
    """robots.txt per host, fetched once per run with the same client and rules as everything else, read by
    protego as RFC 9309 says (the longest matching rule wins, `*` and `$` wildcards). An unreachable or missing
    robots.txt allows everything (the common convention); a 401/403 denies all."""

    def __init__(self, user_agent: str = "kstance"):
        self.user_agent = user_agent
        self._parsers: dict[str, object] = {}
        self._lock = threading.Lock()

    def allowed(self, url: str, client: httpx.Client, *, allow_private: bool, timeout: float) -> bool:
        from protego import Protego

        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._lock:
            parser = self._parsers.get(origin)
        if parser is None:
            try:
                r = get(origin + "/robots.txt", client=client, allow_private=allow_private, timeout=timeout,
                        max_bytes=512 * 1024)
                parser = Protego.parse(r.body.decode("utf-8", "replace"))
            except FetchError as exc:
                parser = Protego.parse("User-agent: *\nDisallow: /\n" if str(exc) in ("HTTP 401", "HTTP 403") else "")
            with self._lock:
                self._parsers[origin] = parser
        return parser.can_fetch(url, self.user_agent)


class HostPacer:
    """At most one request per host every `delay` seconds, across threads."""

    def __init__(self, delay: float):
        self.delay = delay
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, url: str) -> None:
        if self.delay <= 0:
            return
        host = urlsplit(url).hostname or ""
        with self._lock:
            t = time.monotonic()
            start = max(t, self._next.get(host, 0.0))
            self._next[host] = start + self.delay
        if start > t:
            time.sleep(start - t)


@dataclass
class FeedCollection:
    poll: FeedPoll
    articles: list[Article] = field(default_factory=list)
    seen: int = 0  # entries skipped because their URL was already stored


def collect_feed(feed_url: str, *, etag: str | None, last_modified: str | None, is_known: Callable[[list[str]], set[str]],
                 outlet: str = "", allow_private: bool = False, pacer: HostPacer | None = None,
                 timeout: float = 20.0, client: httpx.Client | None = None, max_items: int = 200,
                 robots: RobotsRules | None = None) -> FeedCollection:
    own = client is None
    robots = robots or RobotsRules()
    client = client or new_client(timeout, allow_private=allow_private)
    pacer = pacer or HostPacer(0)
    try:
        pacer.wait(feed_url)
        poll = poll_feed(feed_url, etag=etag, last_modified=last_modified, client=client,
                         allow_private=allow_private, timeout=timeout)
        out = FeedCollection(poll)
        if poll.error or poll.not_modified:
            return out
        entries = []
        for e in poll.entries[:max_items]:
            try:
                entries.append((e, canonical_url(e.url)))
            except ValueError:
                continue
        known = is_known([c for _, c in entries])
        fetched = datetime.now(timezone.utc).replace(tzinfo=None)
        for entry, canonical in entries:
            if canonical in known:
                out.seen += 1
                continue
            known.add(canonical)
            try:
                if not robots.allowed(entry.url, client, allow_private=allow_private, timeout=timeout):
                    out.articles.append(Article(url=canonical, original_url=entry.url, title=entry.title, text="",
                                                published=None, source=outlet, status=UNEXTRACTABLE,
                                                reason="page not fetched: disallowed by robots.txt", fetched_at=fetched))
                    continue
                pacer.wait(entry.url)
                r = get(entry.url, client=client, allow_private=allow_private, timeout=timeout)
                if "html" in r.content_type or not r.content_type:
                    art = extract_article(r.body, entry.url, canonical=canonical, title=entry.title or None,
                                          published=entry.published, source=outlet or None, fetched_at=fetched)
                else:
                    art = article_from_text(r.body.decode("utf-8", "replace"), entry.url, canonical=canonical,
                                            title=entry.title, published=entry.published, source=outlet)
            except (FetchError, RefusedURL) as exc:
                art = Article(url=canonical, original_url=entry.url, title=entry.title, text="", published=None,
                              source=outlet, status=UNEXTRACTABLE, reason=f"page not fetched: {exc}", fetched_at=fetched)
            except Exception as exc:  # one item's trouble is that item's, never its feed's
                art = Article(url=canonical, original_url=entry.url, title=entry.title, text="", published=None,
                              source=outlet, status=UNEXTRACTABLE,
                              reason=f"page not fetched: {type(exc).__name__}: {str(exc)[:160]}", fetched_at=fetched)
            else:
                art = replace(art, served_url=r.url or entry.url)  # the address that answered: it opens
            out.articles.append(art)
        return out
    finally:
        if own:
            client.close()
