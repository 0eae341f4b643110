"""Duplicate detection: exact copies by content hash, re-published wire copies by SimHash distance.

A Deduplicator is fed articles in order and answers, for each, the canonical URL of the story it
duplicates (or None). The flows seed it with what the store already holds, so a rerun folds the
same way as the first run did.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

import numpy as np

from extractors.article import Article

NEAR_DUPLICATE_BITS = 6  # out of 64: wire copies with a changed headline or byline stay within this
_WORD = re.compile(r"\w+", re.UNICODE)


def simhash(text: str) -> int:
    """64-bit Charikar SimHash over word 3-gram shingles of the first 3,000 words.

    Shingles (not single tokens) keep word order, and using all of them (trafilatura's Simhash samples a
    subset) keeps a changed byline or dateline from moving the hash by more than a few bits."""
    words = [w.casefold() for w in _WORD.findall(text)[:3000]]
    if len(words) < 3:
        words = words + [""] * (3 - len(words))
    shingles = {" ".join(words[i:i + 3]) for i in range(len(words) - 2)}
    hashes = np.fromiter((int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "little")
                          for s in shingles), dtype=np.uint64, count=len(shingles))
    bits = np.unpackbits(hashes.view(np.uint8).reshape(-1, 8), axis=1, bitorder="little")
    votes = bits.sum(axis=0, dtype=np.int64) * 2 - len(shingles)
    return int(sum(1 << i for i in range(64) if votes[i] > 0))


def story_simhash(article: Article) -> int:
    """SimHash of the story's body: a leading headline line is left out, since republishers rewrite headlines."""
    text = article.text
    first, _, rest = text.partition("\n")
    if rest and article.title and " ".join(first.split()).casefold() == " ".join(article.title.split()).casefold():
        text = rest
    return simhash(text)


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
        sim = story_simhash(article) if sim is None else sim
        for i, band in enumerate(self.bands):
            for other, url in band.get((sim >> (8 * i)) & 0xFF, ()):
                if hamming(sim, other) <= NEAR_DUPLICATE_BITS:
                    return url
        return None
