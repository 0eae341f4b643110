from datetime import date

from extractors.article import OK, UNEXTRACTABLE
from extractors.text import detect_language, extract_article, parse_date
from tests.conftest import fixture_page


def test_english_publisher_page_gives_title_date_and_body():
    html, meta = fixture_page("017")
    art = extract_article(html, meta["url"])
    assert art.status == OK
    assert art.title == meta["title"]
    assert art.published == date.fromisoformat(meta["date"])
    assert art.language == "en"
    assert "Korea" in art.text and len(art.text) > 500


def test_korean_page_is_read_and_flagged_korean():
    html, meta = fixture_page("014")
    art = extract_article(html, meta["url"])
    assert art.status == OK
    assert art.language == "ko"
    assert art.published == date.fromisoformat(meta["date"])
    assert "통신선" in art.text


def test_feed_metadata_wins_over_the_page():
    html, meta = fixture_page("013")
    art = extract_article(html, meta["url"], title="Feed title", published="2023-04-03", source="CP24")
    assert (art.title, art.published, art.source) == ("Feed title", date(2023, 4, 3), "CP24")


def test_page_without_article_text_is_unextractable_with_reason():
    art = extract_article(b"<html><body><nav>Home</nav><p>Accept cookies</p></body></html>", "https://example.com/x")
    assert art.status == UNEXTRACTABLE
    assert "no article text" in art.reason


def test_hostile_html_never_raises():
    deep = "<div>" * 5000 + "text" + "</div>" * 5000
    for junk in [b"\x00\xff\xfe" * 1000, deep, "<html>" + "<p a='" + "x" * 100000 + "'>", ""]:
        art = extract_article(junk, "https://example.com/y")
        assert art.status in (OK, UNEXTRACTABLE)


def test_dates_in_the_forms_feeds_use():
    assert parse_date("Tue, 09 Feb 2021 10:22:00 +0900") == date(2021, 2, 9)
    assert parse_date("2023-04-19T09:00:00Z") == date(2023, 4, 19)
    assert parse_date("2023.04.20 11:35") == date(2023, 4, 20)
    assert parse_date("not a date") is None


def test_language_by_script():
    assert detect_language("남북 통신선이 종일 불통 상태입니다. 정부는 상황을 지켜보겠다고 밝혔습니다.") == "ko"
    assert detect_language("Seoul said on Monday it would resume talks with Tokyo next week.") == "en"
    assert detect_language("...") is None


def test_all_korean_publisher_pages_give_title_date_language_and_body():
    """The 8 real pages of ../shared/corpus/korean-news-html (5 in Korean); three of them are copied into
    tests/fixtures, the rest are read from ../shared when it is beside the checkout (as in CI)."""
    import json
    from pathlib import Path

    import pytest

    shared = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "korean-news-html"
    if not shared.exists():
        pytest.skip("../shared/corpus/korean-news-html is not beside this checkout")
    pages = sorted(shared.glob("*.html"))
    assert len(pages) == 8
    for page in pages:
        meta = json.loads(page.with_suffix(".meta.json").read_text(encoding="utf-8"))
        art = extract_article(page.read_bytes(), meta["url"])
        assert art.ok and len(art.text) > 300, page.name
        assert art.language == meta["language"] and art.published == date.fromisoformat(meta["date"]), page.name
        # the page's own title; 016's metadata title carries the share button's label ("공유하기") after it
        assert meta["title"].startswith(art.title) and len(art.title) >= 0.8 * len(meta["title"]), page.name
