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
