"""Articles and their judgments: what is stored, what is due to be fetched again, and the links people get."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from extractors.article import Article, date_problem
from store.engine import Store, now
from store.models import ArticleRow, JudgmentRow
from vocab.rules import backoff

if TYPE_CHECKING:  # classifiers.stance imports torch: a store that is only read or written never needs it
    from classifiers.stance import Judgment


def existing_urls(store: Store, urls: Iterable[str], *, retry: str = "known") -> set[str]:
    """The URLs among `urls` that are stored. A page waiting to be fetched again after a transient failure
    counts as stored with retry="known", as not stored once it is due with retry="due" (collection: fetch it),
    and as not stored at all with retry="replace" (screening: the fresh copy replaces it)."""
    urls = list(set(urls))
    found: set[str] = set()
    q = select(ArticleRow.url)
    if retry == "due":
        q = q.where((ArticleRow.retry_after.is_(None)) | (ArticleRow.retry_after > now()))
    elif retry == "replace":
        q = q.where(ArticleRow.retry_after.is_(None))
    with store.session() as s:
        for i in range(0, len(urls), 500):
            found.update(s.scalars(q.where(ArticleRow.url.in_(urls[i:i + 500]))))
    return found


def due_page_retries(store: Store, limit: int = 100) -> list[tuple[str, str, str, str, str | None]]:
    """(url, original url, title, source, origin) of the pages due to be fetched again, oldest first."""
    with store.session() as s:
        return list(s.execute(
            select(ArticleRow.url, ArticleRow.original_url, ArticleRow.title, ArticleRow.source, ArticleRow.origin)
            .where(ArticleRow.retry_after.is_not(None), ArticleRow.retry_after <= now())
            .order_by(ArticleRow.retry_after, ArticleRow.url).limit(limit)).tuples())


def dedup_index(store: Store) -> list[tuple[str, str, str | None]]:
    """(url, content_hash, simhash) of every stored story that is not itself a duplicate (nor a page
    waiting to be fetched again)."""
    with store.session() as s:
        return list(s.execute(select(ArticleRow.url, ArticleRow.content_hash, ArticleRow.simhash)
                              .where(ArticleRow.duplicate_of.is_(None), ArticleRow.retry_after.is_(None))).tuples())


def _text(value):
    """Text as every backend stores it: PostgreSQL refuses NUL characters, so none reaches the store."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, list):
        return [_text(v) for v in value]
    if isinstance(value, dict):
        return {k: _text(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class PageRetryPolicy:
    """A page that failed transiently is fetched again after delay, 2 x delay, 4 x delay, ..., `limit` times in all."""
    limit: int = 4
    delay: timedelta = timedelta(hours=1)


def save_article(s: Session, a: Article, *, origin: str | None, simhash: int | None = None,
                 duplicate_of: str | None = None, retry: PageRetryPolicy = PageRetryPolicy()) -> None:
    """Insert or update one article. A publication date outside the plausible window is stored as its problem
    (published stays empty, so detection, tables and plots never see it). A page that failed transiently
    (a.transient) is scheduled to be fetched again, with back-off, until retry.limit attempts."""
    row = s.get(ArticleRow, a.url)
    if row is None:
        row = ArticleRow(url=a.url, first_seen=now(), fetch_attempts=0)
        s.add(row)
    problem = date_problem(a.published)
    row.original_url = _text(a.original_url)
    row.served_url = _text(a.served_url or a.original_url) or row.served_url
    row.title, row.source, row.author = _text(a.title), _text(a.source), _text(a.author)
    row.published, row.language = (None if problem else a.published), _text(a.language)
    row.date_problem = problem
    row.status, row.reason = a.status, _text(a.reason)
    row.content_hash = a.content_hash
    row.simhash = f"{simhash:016x}" if simhash is not None else None
    row.duplicate_of = duplicate_of
    row.origin = _text(origin)
    row.text = _text(a.text)
    row.retry_after = None
    if a.transient:
        row.fetch_attempts = (row.fetch_attempts or 0) + 1
        if row.fetch_attempts < retry.limit:
            row.retry_after = now() + backoff(retry.delay, row.fetch_attempts - 1)
        else:
            row.reason = f"{row.reason} (gave up after {row.fetch_attempts} attempts)"


def save_judgments(s: Session, url: str, judgments: list[Judgment], model: str) -> None:
    s.execute(delete(JudgmentRow).where(JudgmentRow.article_url == url))
    for j in judgments:
        s.add(JudgmentRow(article_url=url, actor=j.actor, stance=j.stance, score=j.score, confidence=j.confidence,
                          evidence=_text(list(j.evidence)), sentences=j.sentences, model=model))


@dataclass(frozen=True)
class ArticleLink:
    """What a person is shown for a stored article: the address it was served from, its outlet and title."""
    link: str
    outlet: str
    title: str


def article_links(store: Store, urls: Iterable[str]) -> dict[str, ArticleLink]:
    """Canonical URL (the dedup key) -> the link as the source served it. The canonical form may not open
    (it rewrites http to https, drops www.), so it is never what people get when a served one is known."""
    urls = list({u for u in urls if u})
    out: dict[str, ArticleLink] = {}
    with store.session() as s:
        for i in range(0, len(urls), 500):
            for url, served, original, source, title in s.execute(
                    select(ArticleRow.url, ArticleRow.served_url, ArticleRow.original_url, ArticleRow.source,
                           ArticleRow.title).where(ArticleRow.url.in_(urls[i:i + 500]))):
                out[url] = ArticleLink(served or original or url, source or "", title or "")
    return out


def link_of(links: dict[str, ArticleLink], url: str) -> str:
    got = links.get(url)
    return got.link if got else url
