"""Sentence splitting for English and Korean news text, tuned for wire copy's abbreviations."""
from __future__ import annotations

import re

_ABBREV = {
    "u.s", "u.n", "u.k", "e.u", "n", "s", "mr", "mrs", "ms", "dr", "gen", "lt", "col", "sen", "rep", "gov",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "no", "vs", "st",
    "inc", "corp", "co", "ltd", "jr", "sr", "p.m", "a.m", "etc", "approx", "dept", "prof",
}
# Candidate boundary: end punctuation (optionally closed by a quote or bracket), whitespace, then a capital,
# digit, quote or Hangul; or a line break. Korean sentences end in 다./요./까? (also after a closing quote,
# '...않는다."'); a Korean boundary inside an open quote ('"...했다. 그래서..."라고 말했다') is none: the quote
# stays inside its sentence.
_BOUNDARY = re.compile(
    r"(?:(?<=[.!?。])|(?<=[.!?。][\"'”’)\]])|(?<=[.!?。][\"'”’)\]]{2}))\s+(?=[\"“‘'(\[<]?[A-Z0-9\uac00-\ud7a3])"
    r"|(?:(?<=[다요죠까니][.?!])|(?<=[다요죠까니][.?!][\"'”’)\]]))(?=\s|$)\s*"
    r"|\n+")
_OPEN, _CLOSE = "“‘", "”’"
MAX_CHARS = 600  # longer "sentences" are tables or run-ons; cut so the 128-token model sees whole clauses


def split_sentences(text: str) -> list[str]:
    pieces: list[str] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        end = m.start()
        candidate = text[start:end]
        if "\n" not in m.group(0) and _ends_with_abbreviation(candidate):
            continue
        if "\n" not in m.group(0) and _inside_quote(text[start:m.end()]) and _quote_closes(text, m.end()):
            continue  # keep '“...다. ...”고 말했다' whole
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


def _inside_quote(segment: str) -> bool:
    """Whether the segment ends inside a curly quote it opened (straight quotes are too ambiguous to count)."""
    return sum(segment.count(c) for c in _OPEN) > sum(segment.count(c) for c in _CLOSE) and any(
        "\uac00" <= ch <= "\ud7a3" for ch in segment)


def _quote_closes(text: str, at: int) -> bool:
    """Whether the open quote closes before the line ends (an unbalanced quote must not glue a paragraph)."""
    end = text.find("\n", at)
    rest = text[at:end if end >= 0 else len(text)]
    return any(c in rest for c in _CLOSE)
