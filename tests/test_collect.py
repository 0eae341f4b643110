"""From a feed on a loopback server to Articles: new entries fetched and extracted, robots.txt obeyed."""
from extractors.collect import HostPacer, collect_feed
from flows.demo import feed_xml, page_html

ITEMS = [
    {"slug": "a", "title": "Seoul proposes talks", "published": "2026-07-21", "outlet": "T",
     "text": ("Unification Minister Chung Dong-young said Seoul was ready to meet North Korean officials "
              "at any time. ") * 4},
    {"slug": "b", "title": "Seoul protests", "published": "2026-07-22", "outlet": "T",
     "text": "The foreign ministry summoned a Japanese diplomat to protest Tokyo's claim to Dokdo. " * 4},
]


def serve_items(server, items, robots=None):
    from tests.conftest import respond

    server.routes["/feed.xml"] = respond(feed_xml(items, server.base).replace("/articles/", "/articles/"),
                                         ctype="application/rss+xml")
    for it in items:
        server.routes[f"/articles/{it['slug']}.html"] = respond(page_html(it))
    if robots is not None:
        server.routes["/robots.txt"] = respond(robots, ctype="text/plain")


def test_new_entries_are_fetched_and_extracted_and_known_ones_skipped(server):
    serve_items(server, ITEMS)
    got = collect_feed(server.url("/feed.xml"), etag=None, last_modified=None, allow_private=True,
                       is_known=lambda urls: {u for u in urls if u.endswith("/b.html")})
    assert got.seen == 1 and [a.title for a in got.articles] == ["Seoul proposes talks"]
    assert got.articles[0].ok and "North Korean officials" in got.articles[0].text
    assert str(got.articles[0].published) == "2026-07-21"


def test_robots_txt_is_obeyed(server):
    serve_items(server, ITEMS, robots="User-agent: *\nDisallow: /articles/b.html\n")
    got = collect_feed(server.url("/feed.xml"), etag=None, last_modified=None, allow_private=True,
                       is_known=lambda urls: set())
    by_title = {a.title: a for a in got.articles}
    assert by_title["Seoul proposes talks"].ok
    assert by_title["Seoul protests"].reason == "page not fetched: disallowed by robots.txt"
    assert not any(path == "/articles/b.html" for path, _ in server.hits)


def test_a_page_that_fails_is_recorded_with_its_reason(server):
    serve_items(server, ITEMS[:1])
    del server.routes["/articles/a.html"]
    got = collect_feed(server.url("/feed.xml"), etag=None, last_modified=None, allow_private=True,
                       is_known=lambda urls: set())
    assert got.articles[0].status == "unextractable" and got.articles[0].reason == "page not fetched: HTTP 404"


def test_politeness_delay_spaces_requests_to_one_host():
    import time

    pacer = HostPacer(0.2)
    t = time.monotonic()
    for _ in range(3):
        pacer.wait("http://one.example/x")
    assert time.monotonic() - t >= 0.39
