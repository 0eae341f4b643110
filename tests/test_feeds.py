import gzip

from extractors.feeds import parse_feed, poll_feed
from tests.conftest import FIXTURES, respond

RSS = """<?xml version="1.0" encoding="{enc}"?><rss version="2.0"><channel><title>t</title>
<item><title>{title}</title><link>https://example.com/a1</link><pubDate>Tue, 09 Feb 2021 10:22:00 +0900</pubDate></item>
</channel></rss>"""


def test_real_korea_herald_feed_parses():
    poll = parse_feed((FIXTURES / "feeds" / "koreaherald-2021-02-09.xml").read_bytes())
    assert poll.error is None and len(poll.entries) == 1
    assert poll.entries[0].url.startswith("http")


def test_truncated_real_feed_recovers_entries_or_reports_why():
    poll = parse_feed((FIXTURES / "feeds" / "truncated-scmp_rss_34518_kim-jong-un.xml").read_bytes())
    assert poll.entries or (poll.error and "malformed" in poll.error)


def test_garbage_is_reported_not_raised():
    poll = parse_feed(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10)
    assert poll.error


def test_json_feed():
    poll = parse_feed(
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "x", "items": '
        b'[{"id": "1", "url": "https://example.com/j", "title": "J", "date_published": "2024-01-02T00:00:00Z"}]}'
    )
    assert [e.url for e in poll.entries] == ["https://example.com/j"]


def test_conditional_get_etag_then_304(server):
    body = RSS.format(enc="utf-8", title="First").encode()

    def route(req):
        if req.headers.get("If-None-Match") == '"v1"':
            req.send_response(304)
            req.send_header("Content-Length", "0")
            req.end_headers()
            return
        respond(body, ctype="application/rss+xml", headers={"ETag": '"v1"'})(req)

    server.routes["/feed"] = route
    first = poll_feed(server.url("/feed"), allow_private=True)
    assert first.etag == '"v1"' and len(first.entries) == 1
    second = poll_feed(server.url("/feed"), etag=first.etag, allow_private=True)
    assert second.not_modified and not second.entries and second.error is None
    assert "kstance" in server.hits[0][1]["User-Agent"]


def test_server_error_and_slow_server_mark_the_poll_failed(server):
    import time

    server.routes["/500"] = respond("boom", status=500)

    def slow(req):
        time.sleep(3)
        respond("late")(req)

    server.routes["/slow"] = slow
    assert poll_feed(server.url("/500"), allow_private=True).error == "HTTP 500"
    err = poll_feed(server.url("/slow"), allow_private=True, timeout=0.5).error
    assert "timed out" in err


def test_gzip_and_non_utf8_feeds(server):
    korean = RSS.format(enc="euc-kr", title="북한 미사일 발사").encode("euc-kr")
    server.routes["/gz"] = respond(
        gzip.compress(korean), ctype="application/rss+xml", headers={"Content-Encoding": "gzip"}
    )
    poll = poll_feed(server.url("/gz"), allow_private=True)
    assert poll.error is None and poll.entries[0].title == "북한 미사일 발사"


def assert_cut_off(url: str, what: str) -> None:
    """A GET with a 5 MB cap must fail with "too large"."""
    from extractors.http import FetchError, get

    try:
        get(url, allow_private=True, max_bytes=5 << 20)
    except FetchError as exc:
        assert "too large" in str(exc)
    else:
        raise AssertionError(what)


def test_huge_body_is_cut_off(server):
    chunk = b"x" * (1 << 20)

    def huge(req):
        req.send_response(200)
        req.send_header("Content-Type", "application/rss+xml")
        req.end_headers()  # no Content-Length: the cap must hold while streaming
        try:
            for _ in range(50):
                req.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass

    server.routes["/huge"] = huge
    assert_cut_off(server.url("/huge"), "a 50 MB body was accepted")


def test_loopback_feed_refused_without_the_setting(server):
    server.routes["/feed"] = respond(RSS.format(enc="utf-8", title="x"))
    poll = poll_feed(server.url("/feed"))
    assert "non-public" in poll.error


def test_gzip_bomb_is_cut_off_by_the_decompressed_size_cap(server):
    bomb = gzip.compress(b"\0" * (64 << 20), compresslevel=9)  # 64 MB of zeros in about 64 KB
    assert len(bomb) < (1 << 20)
    server.routes["/bomb"] = respond(bomb, ctype="application/rss+xml", headers={"Content-Encoding": "gzip"})
    assert_cut_off(server.url("/bomb"), "a gzip bomb was inflated past the cap")
