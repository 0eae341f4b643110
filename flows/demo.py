"""`kstance demo`: a bundled sample feed served on 127.0.0.1 and one full cycle over it, offline."""
from __future__ import annotations

import html
import json
import os
import threading
import time
from datetime import date, timedelta
from email.utils import format_datetime
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from classifiers.corpus import seed_articles, seeds_dir


def demo_items() -> list[dict]:
    """Seed articles and samples, as {slug, title, published, outlet, text}."""
    items = []
    for doc in seed_articles():
        items.append({"slug": doc["id"], "title": doc.get("title") or doc["id"], "published": doc.get("published"),
                      "outlet": doc.get("outlet") or "seed", "text": doc["text"]})
    with open(seeds_dir() / "demo" / "samples.jsonl", encoding="utf-8") as fh:
        items += [json.loads(line) for line in fh if line.strip()]
    return items


def page_html(item: dict) -> str:
    paras = "".join(f"<p>{html.escape(p.strip())}</p>" for p in item["text"].split("\n") if p.strip())
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(item['title'])}</title>"
            f"<meta property='og:site_name' content='{html.escape(item['outlet'])}'>"
            f"<meta name='date' content='{item['published']}'></head><body><header><nav>Home | World | Politics</nav>"
            f"</header><article><h1>{html.escape(item['title'])}</h1><time datetime='{item['published']}'>"
            f"{item['published']}</time>{paras}</article><footer>Sample outlet for the kstance demo</footer></body></html>")


def feed_xml(items: list[dict], base: str) -> str:
    entries = []
    for it in items:
        pub = datetime.fromisoformat(it["published"]).replace(hour=9, tzinfo=timezone.utc)
        entries.append(f"<item><title>{html.escape(it['title'])}</title><link>{base}/articles/{it['slug']}.html</link>"
                       f"<guid>{base}/articles/{it['slug']}.html</guid><pubDate>{format_datetime(pub)}</pubDate></item>")
    return ("<?xml version='1.0' encoding='UTF-8'?><rss version='2.0'><channel><title>kstance demo feed</title>"
            f"<link>{base}/</link><description>Seed articles and samples</description>{''.join(entries)}</channel></rss>")


class DemoServer:
    """A loopback HTTP server for the demo feed and its pages (also used by tests and benchmarks). With
    `feeds` > 1 it serves /feed-0.xml ... /feed-{n-1}.xml, item i in feed i % n; it counts the requests in
    flight at once (`max_in_flight`), and can answer each page after `delay` seconds."""

    def __init__(self, items: list[dict], feeds: int = 1, delay: float = 0.0):
        self.items = {it["slug"]: it for it in items}
        self.feeds = [[it for i, it in enumerate(items) if i % feeds == k] for k in range(feeds)]
        self.in_flight = self.max_in_flight = self.requests = 0
        self._count = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                with outer._count:
                    outer.in_flight += 1
                    outer.requests += 1
                    outer.max_in_flight = max(outer.max_in_flight, outer.in_flight)
                try:
                    self._answer()
                finally:
                    with outer._count:
                        outer.in_flight -= 1

            def _answer(self):
                if self.path == "/feed.xml" and len(outer.feeds) == 1:
                    body, ctype = feed_xml(outer.feeds[0], outer.base).encode(), "application/rss+xml"
                elif self.path.startswith("/feed-") and self.path.endswith(".xml") and self.path[6:-4].isdigit() \
                        and int(self.path[6:-4]) < len(outer.feeds):
                    body, ctype = feed_xml(outer.feeds[int(self.path[6:-4])], outer.base).encode(), "application/rss+xml"
                elif self.path.startswith("/articles/") and self.path.endswith(".html"):
                    it = outer.items.get(self.path[len("/articles/"):-5])
                    if it is None:
                        self.send_error(404)
                        return
                    if delay:
                        time.sleep(delay)
                    body, ctype = page_html(it).encode(), "text/html; charset=utf-8"
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def feed_urls(self) -> list[str]:
        if len(self.feeds) == 1:
            return [f"{self.base}/feed.xml"]
        return [f"{self.base}/feed-{k}.xml" for k in range(len(self.feeds))]

    def __enter__(self) -> "DemoServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def run_demo(console, send: bool = False) -> None:
    """With `send`, the demo's alert goes out through the configured channels (KSTANCE_ALERT_URLS), so a user can
    see what an alert looks like where they read them; without it nothing is sent anywhere."""
    home = Path(os.environ.get("KSTANCE_HOME", ".kstance")) / "demo"
    home.mkdir(parents=True, exist_ok=True)
    for f in home.glob("kstance.db*"):
        f.unlink()  # each demo starts from an empty store, so it shows the same story every time
    items = demo_items()
    with DemoServer(items) as server:
        feeds = home / "feeds.toml"
        feeds.write_text(f'[[feeds]]\nname = "kstance demo feed"\nurl = "{server.base}/feed.xml"\n'
                         f'outlet = "demo"\nlanguage = "en"\n', encoding="utf-8")
        os.environ.update({"KSTANCE_HOME": str(home), "KSTANCE_FEEDS": str(feeds),
                           "KSTANCE_ALLOW_PRIVATE_ADDRESSES": "true", "KSTANCE_POLITENESS_DELAY_S": "0",
                           "KSTANCE_DATABASE_URL": f"sqlite:///{(home / 'kstance.db').resolve()}"})
        if not send:  # the demo records its alert and sends nothing (an empty value also hides kstance.toml's)
            os.environ["KSTANCE_ALERT_URLS"] = ""
        from flows.cli import _print_cycle, _run_monitor, _settings

        settings = _settings()
        console.print(f"demo feed on {server.base}/feed.xml ({len(items)} items); store {settings.db_url}")
        if send and not settings.alert_urls:
            console.print("--send: no alert channel is configured (KSTANCE_ALERT_URLS): nothing will be sent")
        last = max(date.fromisoformat(it["published"]) for it in items if it.get("published"))
        result = _run_monitor(settings, (last + timedelta(days=1)).isoformat())
    _print_cycle(result)
    print_stance_table(console, settings)
    from flows.cli import alerts as show_alerts

    console.print("\nAlerts", style="bold")
    show_alerts(format="text", test=False, ack=None, retry=None, drop=None)
    console.print(f"\nstore:  {settings.db_url}")
    console.print(f"report: {(settings.home / 'report' / 'index.html').resolve()}")
    console.print(f"The demo keeps its own store; to look at it again: KSTANCE_HOME={settings.home.resolve()} "
                  f"KSTANCE_DATABASE_URL={settings.db_url} kstance alerts (or judgments, report)", markup=False)


def print_stance_table(console, settings) -> None:
    from rich.table import Table
    from sqlalchemy import select

    from store.models import ArticleRow, JudgmentRow

    store = settings.open_store()
    table = Table(title="Seoul's stance per article and actor", show_lines=False)
    for col in ("published", "actor", "stance", "score", "conf.", "evidence"):
        table.add_column(col, overflow="fold")
    with store.session() as s:
        rows = s.execute(select(JudgmentRow, ArticleRow.published).join(ArticleRow, ArticleRow.url == JudgmentRow.article_url)
                         .order_by(ArticleRow.published, JudgmentRow.actor)).all()
    from flows.cli import inert

    for j, pub in rows:
        ev = inert((j.evidence or [""])[0], keep_newlines=False)
        table.add_row(str(pub), j.actor, j.stance, f"{j.score:+.2f}", f"{j.confidence:.2f}",
                      ev if len(ev) <= 110 else ev[:109] + "\u2026")
    console.print(table)
