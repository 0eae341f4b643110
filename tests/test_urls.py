import pytest

from extractors.urls import RefusedURL, canonical_url, check_fetchable


@pytest.mark.parametrize("variant", [
    "https://www.koreaherald.com/view.php?ud=20240101000123&utm_source=rss&utm_medium=feed",
    "http://koreaherald.com/view.php?ud=20240101000123#comments",
    "https://m.koreaherald.com/view.php?ud=20240101000123&fbclid=abc",
    "https://KOREAHERALD.com:443/view.php?ud=20240101000123",
])
def test_variants_of_one_article_fold_to_one_key(variant):
    assert canonical_url(variant) == "https://koreaherald.com/view.php?ud=20240101000123"


def test_amp_paths_and_trailing_slashes_fold():
    assert canonical_url("https://www.example.com/news/2024/01/story/amp/") == "https://example.com/news/2024/01/story"
    assert canonical_url("https://amp.example.co.kr/article/123") == "https://example.co.kr/article/123"


def test_meaningful_query_parameters_are_kept_and_sorted():
    assert canonical_url("https://n.news.example.com/view?b=2&aid=7&a=1") == "https://n.news.example.com/view?a=1&aid=7&b=2"


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x", "javascript:alert(1)",
                                 "data:text/html,<b>x</b>", "/relative/path"])
def test_only_http_and_https_are_fetched(url):
    with pytest.raises(RefusedURL, match="only http and https"):
        check_fetchable(url)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/feed", "http://localhost/feed", "http://10.1.2.3/x",
                                 "http://169.254.169.254/latest/meta-data", "http://[::1]/x"])
def test_private_and_loopback_addresses_are_refused_by_default(url):
    with pytest.raises(RefusedURL, match="non-public"):
        check_fetchable(url)
    check_fetchable(url, allow_private=True)  # the setting lets tests and intranets through


# -- the dedup key under attack (issue 17) -------------------------------------------------------------------------

@pytest.mark.parametrize("a,b", [
    ("https://news.example/view?id=1&ref=home", "https://news.example/view?id=1&ref=world"),
    ("https://news.example/view?id=1&src=rss", "https://news.example/view?id=1&src=wire"),
    ("https://news.example/list?from=2024-01-01", "https://news.example/list?from=2024-02-01"),
    ("https://news.example/page?feed=politics", "https://news.example/page?feed=economy"),
    ("https://news.example/#!/story/1", "https://news.example/#!/story/2"),
])
def test_parameters_that_may_select_content_and_hashbang_routes_keep_articles_apart(a, b):
    assert canonical_url(a) != canonical_url(b)


@pytest.mark.parametrize("variant", [
    "https://news.example/politics/story-1?outputType=amp",
    "https://news.example/politics/story-1?_amp=true",
    "https://news.example/politics/story-1/index.html",
    "https://news.example/politics//story-1",
    "https://news.example/politics/./story-1",
    "https://news.example/politics/story-%31",
    "https://news.example/politics/story-1;jsessionid=0A1B2C3D4E",
    "https://news.example/politics/story-1?gclid=x&utm_campaign=y#section-2",
    "https://news.example/politics/other/../story-1",
])
def test_amp_index_and_encoding_forms_fold_to_one_key(variant):
    assert canonical_url(variant) == "https://news.example/politics/story-1"


def test_a_known_share_code_is_dropped_where_it_is_tracking_and_kept_elsewhere():
    assert canonical_url("https://x.com/mofa_kr/status/1700000000?s=09") == "https://x.com/mofa_kr/status/1700000000"
    assert canonical_url("https://twitter.com/mofa_kr/status/1700000000?s=20&t=abc") == \
        "https://twitter.com/mofa_kr/status/1700000000"
    assert canonical_url("https://blog.example/?s=korea") == "https://blog.example/?s=korea"  # a search, not tracking


def test_ipv6_hosts_keep_their_brackets_and_fold_again_to_themselves():
    once = canonical_url("http://[2001:DB8::1]:8080/a//b?utm_source=x")
    assert once == "https://[2001:db8::1]:8080/a/b"
    assert canonical_url(once) == once


def test_idn_hosts_fold_to_their_ascii_form():
    assert canonical_url("https://www.연합뉴스.KR/a") == canonical_url("https://xn--vg1b002akocy6v.kr/a") \
        == "https://xn--vg1b002akocy6v.kr/a"


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
_hosts = st.one_of(
    st.lists(_label, min_size=1, max_size=4).map(lambda ls: ".".join(ls + ["example"])),
    st.sampled_from(["www.example.com", "m.news.co.kr", "amp.site.org", "연합뉴스.kr", "www.ニュース.jp", "Bücher.de"]),
    st.ip_addresses(v=6).map(lambda a: f"[{a}]"),
    st.ip_addresses(v=4).map(str),
)
_segment = st.one_of(st.sampled_from(["amp", ".", "..", "", "index.html", "a;jsessionid=1", "%31", "%7e", "%2F",
                                      "기사", "x y", "100%", "AMP"]),
                     st.text("abcXYZ09-_.~%", max_size=6))
_param = st.tuples(st.sampled_from(["utm_source", "id", "ref", "s", "amp", "_amp", "outputType", "fbclid", "q", "ä"]),
                   st.text("abc19 %&=+", max_size=5))


@settings(max_examples=400, deadline=None)
@given(scheme=st.sampled_from(["http", "https", "HTTP"]), host=_hosts,
       port=st.one_of(st.none(), st.integers(1, 65535)), segments=st.lists(_segment, max_size=5),
       params=st.lists(_param, max_size=4), fragment=st.one_of(st.none(), st.sampled_from(["top", "!/story/3", "!"])))
def test_canonicalisation_is_idempotent(scheme, host, port, segments, params, fragment):
    from urllib.parse import urlencode

    url = f"{scheme}://{host}{f':{port}' if port else ''}/{'/'.join(segments)}"
    if params:
        url += "?" + urlencode(params)
    if fragment is not None:
        url += "#" + fragment
    once = canonical_url(url)
    assert canonical_url(once) == once
