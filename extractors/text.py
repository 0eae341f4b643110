"""Article text and metadata from HTML, through trafilatura."""
from __future__ import annotations

import logging
import re
import warnings
from datetime import date, datetime

from extractors.article import OK, UNEXTRACTABLE, Article

logging.getLogger("trafilatura").setLevel(logging.ERROR)
logging.getLogger("htmldate").setLevel(logging.ERROR)

MIN_TEXT_CHARS = 200  # shorter bodies are teasers, consent walls or error pages, not articles

_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_LATIN = re.compile(r"[A-Za-z]")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def detect_language(text: str) -> str | None:
    """The dominant script of the text, as a language code; None when there is too little text to tell.

    Script counting is enough here: kstance needs to know whether the configured model can read the
    text (English for the bundled model), not to tell Spanish from Italian.
    """
    sample = text[:20000]
    counts = {
        "ko": len(_HANGUL.findall(sample)) * 2,  # a Hangul syllable carries about two Latin letters' worth
        "en": len(_LATIN.findall(sample)),
        "zh": len(_CJK.findall(sample)) * 2,
        "ja": len(_KANA.findall(sample)) * 2,
        "ru": len(_CYRILLIC.findall(sample)),
    }
    lang, n = max(counts.items(), key=lambda kv: kv[1])
    if n < 20:
        return None
    if lang == "zh" and counts["ja"] > 0.1 * counts["zh"]:
        return "ja"
    return lang


def parse_date(value: str | date | datetime | None) -> date | None:
    """A publication date from the many forms feeds and pages give; None when it cannot be read."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    m = re.match(r"(\d{4})[-./](\d{1,2})[-./](\d{1,2})", text)
    if m:
        try:
            return date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            return None
    try:
        from email.utils import parsedate_to_datetime

        return parsedate_to_datetime(text).date()
    except (TypeError, ValueError, IndexError):
        return None


_TITLE_SEPARATORS = (" | ", " - ", " :: ", " « ", " — ", " – ")


def clean_title(title: str, sitename: str | None) -> str:
    """A page title without the outlet's name tacked on ("Story | Yonhap News Agency" -> "Story")."""
    title = " ".join(title.split())
    for sep in _TITLE_SEPARATORS:
        if sep not in title:
            continue
        head, tail = title.rsplit(sep, 1)
        same_site = sitename and (tail.casefold() in sitename.casefold() or sitename.casefold() in tail.casefold())
        if same_site or (len(tail.split()) <= 4 and len(head) > 2 * len(tail)):
            return head.strip()
    return title


def extract_article(
    html: str | bytes,
    url: str,
    *,
    canonical: str | None = None,
    title: str | None = None,
    published: str | date | None = None,
    source: str | None = None,
) -> Article:
    """Extract body and metadata from one page. Never raises: a page with no usable text comes back
    with status `unextractable` and the reason. Metadata given by the feed or archive wins over what
    the page itself says, except where it is missing."""
    from trafilatura import bare_extraction

    if isinstance(html, bytes):
        html = _decode(html)
    doc = None
    reason = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            doc = bare_extraction(html, url=url, with_metadata=True, include_comments=False, include_tables=False)
    except Exception as exc:  # trafilatura raises a zoo of parser errors on hostile input
        reason = f"extraction failed: {type(exc).__name__}: {str(exc)[:120]}"
    text = (getattr(doc, "text", None) or "").strip() if doc is not None else ""
    meta_title = getattr(doc, "title", None) if doc is not None else None
    meta_date = getattr(doc, "date", None) if doc is not None else None
    sitename = getattr(doc, "sitename", None) if doc is not None else None
    author = getattr(doc, "author", None) if doc is not None else None
    article = Article(
        url=canonical or url,
        original_url=url,
        title=(title or clean_title(meta_title or "", sitename)).strip(),
        text=text,
        published=parse_date(published) or parse_date(meta_date),
        source=(source or sitename or "").strip(),
        author=author,
        language=detect_language(text),
    )
    if reason is None and len(text) < MIN_TEXT_CHARS:
        reason = f"no article text found ({len(text)} characters)"
    return article.with_status(UNEXTRACTABLE, reason) if reason else article.with_status(OK, None)


def article_from_text(
    text: str,
    url: str,
    *,
    canonical: str | None = None,
    title: str = "",
    published: str | date | None = None,
    source: str = "",
) -> Article:
    """An Article from plain text (archives that carry text, .txt files)."""
    text = text.strip()
    article = Article(
        url=canonical or url,
        original_url=url,
        title=title.strip(),
        text=text,
        published=parse_date(published),
        source=source,
        language=detect_language(text),
    )
    if not text:
        return article.with_status(UNEXTRACTABLE, "empty text")
    return article


def _decode(data: bytes) -> str:
    head = data[:2048].decode("ascii", "ignore").lower()
    m = re.search(r"charset=[\"']?([a-z0-9_\-]+)", head)
    for enc in ([m[1]] if m else []) + ["utf-8", "cp949"]:
        try:
            return data.decode(enc)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("latin-1")  # decodes any bytes: the last resort
