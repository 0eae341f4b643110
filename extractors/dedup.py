"""Duplicate detection: exact copies by content hash, re-published wire copies by SimHash distance.

A Deduplicator is fed articles in order and answers, for each, the canonical URL of the story it
duplicates (or None). The flows seed it with what the store already holds, so a rerun folds the
same way as the first run did.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from trafilatura.deduplication import Simhash

from extractors.article import Article

NEAR_DUPLICATE_BITS = 6  # out of 64: wire copies with a changed headline or byline stay within this


def simhash(text: str) -> int:
    return Simhash(" ".join(text.split()[:2000])).hash


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


@dataclass
class Deduplicator:
    by_hash: dict[str, str] = field(default_factory=dict)
    # bucketed by each of eight 8-bit bands: two hashes that differ in at most 6 bits agree on at least
    # two bands exactly (pigeonhole), so a near duplicate is always found in some bucket
    bands: list[dict[int, list[tuple[int, str]]]] = field(default_factory=lambda: [{} for _ in range(8)])
    seen_urls: set[str] = field(default_factory=set)

    def add(self, url: str, content_hash: str, sim: int) -> None:
        self.seen_urls.add(url)
        self.by_hash.setdefault(content_hash, url)
        for i, band in enumerate(self.bands):
            band.setdefault((sim >> (8 * i)) & 0xFF, []).append((sim, url))

    def duplicate_of(self, article: Article, sim: int | None = None) -> str | None:
        """The URL of an earlier story this article repeats, or None. Does not record the article."""
        if article.url in self.seen_urls:
            return article.url
        hit = self.by_hash.get(article.content_hash)
        if hit:
            return hit
        sim = simhash(article.text) if sim is None else sim
        for i, band in enumerate(self.bands):
            for other, url in band.get((sim >> (8 * i)) & 0xFF, ()):
                if hamming(sim, other) <= NEAR_DUPLICATE_BITS:
                    return url
        return None
