"""The Article record: the one type that crosses the boundary between ingestion and classification."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import date, datetime


# Why an article was not judged; the flows store these as they are.
OK = "ok"
UNEXTRACTABLE = "unextractable"
UNSUPPORTED_LANGUAGE = "unsupported_language"
IRRELEVANT = "irrelevant"
DUPLICATE = "duplicate"


@dataclass(frozen=True)
class Article:
    url: str  # canonical URL: the key everywhere downstream
    title: str
    text: str
    published: date | None
    source: str = ""  # outlet or site name
    language: str | None = None
    author: str | None = None
    status: str = OK
    reason: str | None = None
    original_url: str | None = None  # as the feed or archive listed it
    served_url: str | None = None  # where the page actually came from (after redirects)
    fetched_at: datetime | None = None
    content_hash: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.content_hash:
            object.__setattr__(self, "content_hash", content_hash(self.text))

    def with_status(self, status: str, reason: str | None) -> "Article":
        return replace(self, status=status, reason=reason)

    @property
    def ok(self) -> bool:
        return self.status == OK


def content_hash(text: str) -> str:
    """Hash of the text with whitespace folded, so re-wrapped copies of one body hash alike."""
    folded = " ".join(text.split()).casefold()
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()[:32]
