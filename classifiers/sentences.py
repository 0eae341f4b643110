"""Sentence splitting for English and Korean news text, tuned for wire copy's abbreviations."""
from __future__ import annotations

import re

_ABBREV = {
    "u.s", "u.n", "u.k", "e.u", "n", "s", "mr", "mrs", "ms", "dr", "gen", "lt", "col", "sen", "rep", "gov",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "no", "vs", "st",
    "inc", "corp", "co", "ltd", "jr", "sr", "p.m", "a.m", "etc", "approx", "dept", "prof",
}
# Candidate boundary: end punctuation (optionally closed by a quote or bracket), whitespace, then a capital,
# digit, quote or Hangul. Korean sentences also end with 다. or 요.
_BOUNDARY = re.compile(r"(?<=[.!?。])[\"'”’)\]]*\s+(?=[\"“‘'(\[]?[A-Z0-9\uac00-\ud7a3])|(?<=[다요]\.)\s*|\n+")
MAX_CHARS = 600  # longer "sentences" are tables or run-ons; cut so the 128-token model sees whole clauses


def split_sentences(text: str) -> list[str]:
    pieces: list[str] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        end = m.start()
        candidate = text[start:end]
        if m.group(0).strip() == "" and "\n" not in m.group(0) and _ends_with_abbreviation(candidate):
            continue
        pieces.append(candidate)
        start = m.end()
    pieces.append(text[start:])
    out = []
    for p in pieces:
        p = " ".join(p.split())
        if not p:
            continue
        while len(p) > MAX_CHARS:
            cut = p.rfind(", ", 0, MAX_CHARS)
            cut = cut if cut > MAX_CHARS // 3 else MAX_CHARS
            out.append(p[:cut + 1].strip())
            p = p[cut + 1:].strip()
        if p:
            out.append(p)
    return out


def _ends_with_abbreviation(candidate: str) -> bool:
    tail = candidate.rstrip("\"'”’)]")
    if not tail.endswith("."):
        return False
    word = tail[:-1].rsplit(None, 1)[-1].lower() if tail[:-1].split() else ""
    word = word.lstrip("\"'“‘([")
    return word in _ABBREV or (len(word) == 1 and word.isalpha())
