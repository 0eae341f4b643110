"""Property-based tests (hypothesis): hostile input never crashes the readers, and every rejection says why."""
import io
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extractors.archives import ArchiveProblem, read_archive
from extractors.article import OK, UNEXTRACTABLE, Article
from extractors.feeds import parse_feed
from extractors.text import extract_article
from extractors.urls import RefusedURL, canonical_url, check_fetchable

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

urls = st.builds(
    lambda scheme, host, path, q, frag: f"{scheme}://{host}/{path}?{q}#{frag}",
    st.sampled_from(["http", "https", "HTTP", "Https"]),
    st.from_regex(r"(www\.|m\.|amp\.)?[a-z]{1,12}\.(com|co\.kr|kr|org)", fullmatch=True),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=40),
    st.text(max_size=40),
    st.text(max_size=20),
)


@FAST
@given(urls)
def test_canonical_url_is_idempotent_and_drops_fragments(url):
    once = canonical_url(url)
    assert canonical_url(once) == once
    # fragments go, except hashbang routes (`#!`), which select content (issue 17)
    assert ("#" not in once or once.count("#") == 1 and "#!" in once) and once.startswith("https://")


@FAST
@given(st.text(max_size=200))
def test_any_string_is_either_fetchable_or_refused_with_a_reason(text):
    try:
        check_fetchable(text, allow_private=True)
    except RefusedURL as exc:
        assert str(exc)


@FAST
@given(st.binary(max_size=4000))
def test_feed_parser_never_raises_on_random_bytes(data):
    poll = parse_feed(data)
    assert isinstance(poll.entries, list) and (poll.error is None or poll.error.strip())
    if not poll.entries and b"<" not in data and b"{" not in data:
        assert poll.error  # bytes that cannot be a feed are reported, with the reason


@FAST
@given(
    st.text(max_size=300),
    st.integers(min_value=1, max_value=3000),
    st.sampled_from(["utf-8", "euc-kr", "latin-1", "utf-16"]),
)
def test_feed_with_odd_encodings_and_huge_attributes(title, attr_len, enc):
    doc = (f'<?xml version="1.0" encoding="{enc}"?><rss version="2.0"><channel><title x="{"a" * attr_len}">t</title>'
           f"<item><title>{title.replace('<', '').replace('&', '')}</title><link>https://e.com/1</link></item>"
           "</channel></rss>")
    try:
        data = doc.encode(enc)
    except UnicodeEncodeError:
        data = doc.encode("utf-8")
    poll = parse_feed(data)
    assert (poll.entries and poll.entries[0].url == "https://e.com/1") or poll.error  # recovered, or said why


@FAST
@given(st.recursive(st.text(max_size=30), lambda inner: st.builds(lambda t, x: f"<{t}>{x}</{t}>",
                    st.sampled_from(["div", "p", "span", "article", "table", "td"]), inner), max_leaves=40),
       st.binary(max_size=300))
def test_extraction_never_raises_and_says_why_when_empty(html, junk):
    for page in (html, junk, "<html>" + "<div>" * 3000 + html):
        art = extract_article(page, "https://example.com/x")
        assert isinstance(art, Article) and art.status in (OK, UNEXTRACTABLE)
        assert art.status == OK or art.reason


@FAST
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
            st.builds(lambda u, t: json.dumps({"url": u, "text": t}), st.text(max_size=40), st.text(max_size=200)),
            st.builds(
                lambda d: json.dumps(d),
                st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=10), max_size=4),
            ),
        ),
        max_size=20,
    )
)
def test_jsonl_reader_yields_articles_or_numbered_problems(tmp_path_factory, lines):
    p = tmp_path_factory.mktemp("j") / "a.jsonl"
    p.write_text("\n".join(line.replace("\n", " ") for line in lines), encoding="utf-8", errors="replace")
    for item in read_archive(p):
        assert isinstance(item, (Article, ArchiveProblem))
        if isinstance(item, ArchiveProblem):
            assert item.where.startswith("a.jsonl") and item.reason


@FAST
@given(st.binary(max_size=3000), st.booleans())
def test_warc_reader_reports_truncated_or_garbage_records(data, compressed):
    import tempfile
    from pathlib import Path

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    w = WARCWriter(buf, gzip=compressed)
    headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
    w.write_record(
        w.create_warc_record("https://e.com/a", "response", payload=io.BytesIO(b"<p>x</p>" * 50), http_headers=headers)
    )
    blob = buf.getvalue()
    cut = blob[: len(blob) // 2] + data  # a record cut in half, then garbage
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / ("x.warc.gz" if compressed else "x.warc")
        p.write_bytes(cut)
        for item in read_archive(p):
            assert isinstance(item, (Article, ArchiveProblem))
            if isinstance(item, ArchiveProblem):
                assert item.reason
