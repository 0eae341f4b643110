"""The Article record: the one type that crosses the boundary between ingestion and classification."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone

from vocab.states import ArticleStatus

# Why an article was not judged (vocab.states.ArticleStatus); the names stay here for the code that imports them.
OK = ArticleStatus.OK
UNEXTRACTABLE = ArticleStatus.UNEXTRACTABLE
UNSUPPORTED_LANGUAGE = ArticleStatus.UNSUPPORTED_LANGUAGE
IRRELEVANT = ArticleStatus.IRRELEVANT
DUPLICATE = ArticleStatus.DUPLICATE


@dataclass(frozen=True)
class Article:
    url: str  # canonical URL: the key everywhere downstream
    title: str
    text: str
    published: date | None
    source: str = ""  # outlet or site name
    language: str | None = None
    author: str | None = None
    status: ArticleStatus = ArticleStatus.OK
    reason: str | None = None
    original_url: str | None = None  # as the feed or archive listed it
    served_url: str | None = None  # where the page actually came from (after redirects)
    content_hash: str = field(default="", compare=False)
    transient: bool = False  # unextractable for a passing reason (5xx, 429, timeout): worth fetching again later

    def __post_init__(self) -> None:
        if not self.content_hash:
            object.__setattr__(self, "content_hash", content_hash(self.text))

    def with_status(self, status: ArticleStatus, reason: str | None) -> "Article":
        return replace(self, status=status, reason=reason)

    @property
    def ok(self) -> bool:
        return self.status == ArticleStatus.OK


def content_hash(text: str) -> str:
    """Hash of the text with whitespace folded, so re-wrapped copies of one body hash alike."""
    folded = " ".join(text.split()).casefold()
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()[:32]


# The plausible window for a publication date: modern Korean foreign-policy news, and at most two days ahead of
# now (time zones, embargoes). Outside it a date is a parsing accident or a zero value (0001-01-01 of Go and .NET,
# 9999-12-31 of "never"): it is kept with its problem and never used for detection or plots.
EARLIEST_DATE = date(1990, 1, 1)
MAX_DAYS_AHEAD = 2


def date_problem(published: date | None, today: date | None = None) -> str | None:
    """Why a publication date cannot be used, or None when it is plausible (or absent)."""
    if published is None:
        return None
    today = today or datetime.now(timezone.utc).date()
    if published < EARLIEST_DATE:
        return f"implausible publication date {published.isoformat()}: before {EARLIEST_DATE.isoformat()}"
    if published > shift_days(today, MAX_DAYS_AHEAD):
        return (f"implausible publication date {published.isoformat()}: more than {MAX_DAYS_AHEAD} days "
                f"ahead of {today.isoformat()}")
    return None


def shift_days(d: date, days: int) -> date:
    """d + days, held at date.min/date.max instead of raising OverflowError at the edges of the calendar."""
    try:
        return d + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min
