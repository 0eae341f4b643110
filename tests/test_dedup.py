from extractors.article import Article
from extractors.dedup import Deduplicator, simhash

BODY = ("SEOUL, July 14 -- South Korea lodged a strong protest with Japan on Tuesday after Tokyo repeated its claim to "
        "the Dokdo islets in its annual defense white paper. The foreign ministry summoned a senior Japanese diplomat "
        "and demanded that Tokyo withdraw the claim immediately, calling it unacceptable. ") * 3


def art(url, text):
    return Article(url=url, title="t", text=text, published=None)


def test_exact_copy_is_found_by_content_hash_whatever_the_whitespace():
    d = Deduplicator()
    a = art("https://a.com/1", BODY)
    d.add(a.url, a.content_hash, simhash(a.text))
    assert d.duplicate_of(art("https://b.com/9", "  " + BODY.replace(". ", ".\n\n"))) == "https://a.com/1"


def test_wire_copy_with_a_changed_dateline_and_byline_is_a_near_duplicate():
    from extractors.text import extract_article
    from tests.conftest import fixture_page

    html, meta = fixture_page("017")  # a real Yonhap story, as a republisher would carry it
    original = extract_article(html, meta["url"])
    d = Deduplicator()
    d.add(original.url, original.content_hash, simhash(original.text))
    lines = original.text.split("\n")
    republished = "\n".join(
        ["SEOUL (Yonhap) -- " + lines[0][20:]] + lines[1:] + ["Reporting by a partner desk; edited by K. Lee."]
    )
    assert d.duplicate_of(art("https://partner.example/news/1", republished)) == original.url


def test_a_different_story_is_not_a_duplicate():
    d = Deduplicator()
    a = art("https://a.com/1", BODY)
    d.add(a.url, a.content_hash, simhash(a.text))
    other = art("https://c.com/3", "The unification ministry proposed Red Cross talks with North Korea on Monday to "
                "arrange reunions of separated families, and urged Pyongyang to respond for humanitarian reasons. " * 3)
    assert d.duplicate_of(other) is None


def test_a_rewritten_headline_does_not_hide_a_republished_story():
    from extractors.dedup import story_simhash

    body = "\n".join(BODY.split(". "))
    a = Article(
        "https://a.com/1",
        "Seoul lodges strong protest over Tokyo's claim",
        "Seoul lodges strong protest over Tokyo's claim\n" + body,
        None,
    )
    b = Article(
        "https://b.com/2",
        "South Korea protests Japan's Dokdo claim",
        "South Korea protests Japan's Dokdo claim\n" + body,
        None,
    )
    d = Deduplicator()
    d.add(a.url, a.content_hash, story_simhash(a))
    assert d.duplicate_of(b) == "https://a.com/1"
