"""From a feed to Articles: poll it, fetch the pages of entries not seen before, extract them."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
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
                parser = Protego.parse("User-agent: *\nDisallow: /\n" if exc.status in (401, 403) else "")
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


def collect_feed(feed_url: str, *, etag: str | None, last_modified: str | None,
                 is_known: Callable[[list[str]], set[str]], outlet: str = "", allow_private: bool = False,
                 pacer: HostPacer | None = None,
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
        for entry, canonical in entries:
            if canonical in known:
                out.seen += 1
                continue
            known.add(canonical)
            out.articles.append(_fetch_page(entry.url, canonical, entry.title, entry.published, outlet,
                                            client=client, robots=robots, pacer=pacer, allow_private=allow_private,
                                            timeout=timeout))
        return out
    finally:
        if own:
            client.close()


def is_transient(exc: Exception) -> bool:
    """A failure that may pass (the server overloaded or down for a moment, the network dropped): the page is stored
    as unextractable *for now* and fetched again on later runs (with back-off, a few times at most)."""
    return isinstance(exc, FetchError) and exc.retryable


def _not_fetched(canonical: str, url: str, title: str, outlet: str, exc: Exception) -> Article:
    if isinstance(exc, (FetchError, RefusedURL)):
        reason = f"page not fetched: {exc}"
    else:  # anything else (a malformed address, an extractor's error) is this item's trouble, never its feed's
        reason = f"page not fetched: {type(exc).__name__}: {str(exc)[:160]}"
    return Article(url=canonical, original_url=url, title=title, text="", published=None, source=outlet,
                   status=UNEXTRACTABLE, reason=reason, transient=is_transient(exc))


def _page_article(r, url: str, canonical: str, title: str, published, outlet: str) -> Article:
    if "html" in r.content_type or not r.content_type:
        return extract_article(r.body, url, canonical=canonical, title=title or None,
                               published=published, source=outlet or None)
    return article_from_text(r.body.decode("utf-8", "replace"), url, canonical=canonical,
                             title=title, published=published, source=outlet)


def _fetch_page(url: str, canonical: str, title: str, published, outlet: str, *,
                client: httpx.Client, robots: RobotsRules, pacer: HostPacer, allow_private: bool,
                timeout: float) -> Article:
    """One page, fetched and extracted; whatever goes wrong is recorded on its article (per item, never per feed)."""
    try:
        if not robots.allowed(url, client, allow_private=allow_private, timeout=timeout):
            return Article(url=canonical, original_url=url, title=title, text="", published=None, source=outlet,
                           status=UNEXTRACTABLE, reason="page not fetched: disallowed by robots.txt")
        pacer.wait(url)
        r = get(url, client=client, allow_private=allow_private, timeout=timeout)
        art = _page_article(r, url, canonical, title, published, outlet)
        return replace(art, served_url=r.url or url)  # the address that answered: it opens
    except Exception as exc:
        return _not_fetched(canonical, url, title, outlet, exc)


@dataclass(frozen=True)
class PageRetry:
    """A page stored as unextractable after a transient failure, due to be fetched again."""
    url: str  # canonical
    original_url: str
    title: str
    source: str
    origin: str | None


def refetch_pages(pages: list[PageRetry], *, allow_private: bool = False, pacer: HostPacer | None = None,
                  timeout: float = 20.0, robots: RobotsRules | None = None) -> list[Article]:
    """Fetch again the pages that failed transiently on an earlier run (their feed may answer 304 now)."""
    robots = robots or RobotsRules()
    pacer = pacer or HostPacer(0)
    out = []
    with new_client(timeout, allow_private=allow_private) as client:
        for p in pages:
            out.append(_fetch_page(p.original_url, p.url, p.title, None, p.source, client=client,
                                   robots=robots, pacer=pacer, allow_private=allow_private, timeout=timeout))
    return out
