"""People get links as the source served them: the canonical URL is only the dedup key (it rewrites http to
https and drops www., so it may not open). Checked on a real loopback site, SMTP server and report."""
import json
from datetime import date, timedelta

import httpx

from alerts.deliver import parse_channels
from alerts.outbox import deliver_due
from classifiers.shifts import Evidence, Shift
from classifiers.stance import Judgment
from extractors.article import Article
from extractors.collect import collect_feed
from extractors.urls import canonical_url
from flows.demo import feed_xml, page_html
from reports.html import write_report
from store import repository as repo
from tests.conftest import respond
from tests.test_alerts import mail_url, smtp  # noqa: F401 (fixture)
from tests.test_cli import run

ITEM = {"slug": "a", "title": "Seoul summons Japanese envoy", "published": "2026-07-21", "outlet": "Herald",
        "text": "The foreign ministry summoned a senior Japanese diplomat and demanded Tokyo withdraw the claim. " * 4}


def redirect(to: str):
    def route(req):
        req.send_response(301)
        req.send_header("Location", to)
        req.send_header("Content-Length", "0")
        req.end_headers()
    return route


def test_collect_keeps_the_address_that_served_the_page(server):
    server.routes["/feed.xml"] = respond(feed_xml([ITEM], server.base).replace("/articles/a.html", "/old/a.html"),
                                         ctype="application/rss+xml")
    server.routes["/old/a.html"] = redirect(server.url("/articles/a.html"))
    server.routes["/articles/a.html"] = respond(page_html(ITEM))
    [art] = collect_feed(server.url("/feed.xml"), etag=None, last_modified=None, allow_private=True,
                         is_known=lambda urls: set()).articles
    assert art.ok and art.url.startswith("https://")  # the dedup key
    assert art.served_url == server.url("/articles/a.html") and art.original_url == server.url("/old/a.html")


def stored_shift(store, server) -> tuple[Shift, str, str]:
    """One judged article on a loopback site (http only) and a shift whose evidence points at it."""
    served = server.url("/articles/a.html")
    server.routes["/articles/a.html"] = respond(page_html(ITEM))
    key = canonical_url(served)
    day = date.today()
    with store.session() as s:
        repo.save_article(s, Article(key, ITEM["title"], ITEM["text"], day, "Herald", "en", original_url=served,
                                     served_url=served), origin="t")
        repo.save_judgments(s, key, [Judgment("JP", "confrontational", -0.7, 0.9, (ITEM["text"][:95],), 1)], "t")
    ev = (Evidence(ITEM["text"][:95], ITEM["title"], key, day),)
    sh = Shift(
        "JP", "cooperative", "confrontational", 0.6, -0.7, 1.3, 0.9, day, day - timedelta(days=2), day, (key,), ev
    )
    return sh, served, key


def test_alert_email_jsonl_and_report_link_the_served_url(smtp, server, tmp_path):  # noqa: F811
    db = f"sqlite:///{tmp_path / 'k.db'}"
    store = repo.open_store(db)
    sh, served, key = stored_shift(store, server)
    assert key != served
    channels = parse_channels([mail_url(smtp.port)])
    repo.record_shifts(store, [sh], historical=False, deliver=True, channels=[c.key for c in channels])
    assert deliver_due(store, channels).sent
    [msg] = smtp.messages
    for part in (msg.get_body(("plain",)), msg.get_body(("html",))):
        body = part.get_content()
        assert served in body and key not in body
    assert httpx.get(served).status_code == 200  # the link people get opens

    proc = run(["alerts", "--format", "jsonl"], tmp_path, env={"KSTANCE_DATABASE_URL": db})
    assert proc.returncode == 0, proc.stderr
    rec = json.loads(proc.stdout)
    assert rec["articles"] == [served] and rec["article_keys"] == [key]

    page = write_report(store, tmp_path / "report", {}).read_text()
    assert f"href='{served}'" in page or f'href="{served}"' in page
    assert key not in page


def test_migration_fills_the_served_url_of_older_articles(tmp_path):
    from pathlib import Path

    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, text

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(repo.__file__).parent / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(
            text(
                "INSERT INTO articles (url, original_url, title, source, status, content_hash, text, first_seen) "
                "VALUES ('https://x.example/a', 'http://www.x.example/a', 't', 's', 'ok', 'h', '', '2026-01-01')"
            )
        )
    engine.dispose()
    store = repo.open_store(url)
    assert repo.article_links(store, ["https://x.example/a"])["https://x.example/a"].link == "http://www.x.example/a"
