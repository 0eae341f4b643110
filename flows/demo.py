"""`kstance demo`: a bundled sample feed served on 127.0.0.1 and one full cycle over it, offline."""
from __future__ import annotations

import html
import json
import os
import time
from datetime import date, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

from classifiers.corpus import seed_articles, seeds_dir
from flows.console import console as make_console
from flows.loopback import LoopbackServer, respond
from flows.present import print_alerts, print_cycle, print_stance_table


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
            f"{item['published']}</time>{paras}</article><footer>Sample outlet for the kstance demo</footer>"
            "</body></html>")


def feed_xml(items: list[dict], base: str) -> str:
    entries = []
    for it in items:
        pub = datetime.fromisoformat(it["published"]).replace(hour=9, tzinfo=timezone.utc)
        entries.append(f"<item><title>{html.escape(it['title'])}</title><link>{base}/articles/{it['slug']}.html</link>"
                       f"<guid>{base}/articles/{it['slug']}.html</guid><pubDate>{format_datetime(pub)}</pubDate></item>")
    return ("<?xml version='1.0' encoding='UTF-8'?><rss version='2.0'><channel><title>kstance demo feed</title>"
            f"<link>{base}/</link><description>Seed articles and samples</description>{''.join(entries)}"
            "</channel></rss>")


class DemoServer(LoopbackServer):
    """The demo feed and its pages on the loopback server (also used by tests and benchmarks). With `feeds` > 1 it
    serves /feed-0.xml ... /feed-{n-1}.xml, item i in feed i % n; it can answer each page after `delay` seconds."""

    def __init__(self, items: list[dict], feeds: int = 1, delay: float = 0.0):
        super().__init__(protocol_version="HTTP/1.0")
        self.feeds = [[it for i, it in enumerate(items) if i % feeds == k] for k in range(feeds)]
        for path, feed in zip(self.feed_paths(), self.feeds):
            self.routes[path] = self._feed_route(feed)
        for it in items:
            self.routes[f"/articles/{it['slug']}.html"] = self._page_route(it, delay)

    def feed_paths(self) -> list[str]:
        return ["/feed.xml"] if len(self.feeds) == 1 else [f"/feed-{k}.xml" for k in range(len(self.feeds))]

    def feed_urls(self) -> list[str]:
        return [self.base + path for path in self.feed_paths()]

    def _feed_route(self, feed: list[dict]):
        def route(req) -> None:
            respond(feed_xml(feed, self.base), ctype="application/rss+xml")(req)

        return route

    @staticmethod
    def _page_route(item: dict, delay: float):
        def route(req) -> None:
            if delay:
                time.sleep(delay)
            respond(page_html(item))(req)

        return route


def demo_overrides(home: Path, feeds: Path, send: bool) -> dict:
    """The demo's settings over the configured ones: its own home, store and feed list, loopback fetching."""
    overrides = {"home": str(home), "feeds": str(feeds), "allow_private_addresses": True, "politeness_delay_s": 0,
                 "database_url": f"sqlite:///{(home / 'kstance.db').resolve()}"}
    if not send:  # the demo records its alert and sends nothing (an empty list also hides kstance.toml's)
        overrides["alert_urls"] = []
    return overrides


def run_demo(console=None, send: bool = False) -> None:
    """With `send`, the demo's alert goes out through the configured channels (KSTANCE_ALERT_URLS), so a user can
    see what an alert looks like where they read them; without it nothing is sent anywhere."""
    from flows.cli_app import cli_settings
    from flows.runs import run_monitor

    console = console or make_console()
    home = Path(os.environ.get("KSTANCE_HOME", ".kstance")) / "demo"
    home.mkdir(parents=True, exist_ok=True)
    for f in home.glob("kstance.db*"):
        f.unlink()  # each demo starts from an empty store, so it shows the same story every time
    items = demo_items()
    with DemoServer(items) as server:
        feeds = home / "feeds.toml"
        feeds.write_text(f'[[feeds]]\nname = "kstance demo feed"\nurl = "{server.base}/feed.xml"\n'
                         f'outlet = "demo"\nlanguage = "en"\n', encoding="utf-8")
        overrides = demo_overrides(home, feeds, send)
        settings = cli_settings(**overrides)
        console.print(f"demo feed on {server.base}/feed.xml ({len(items)} items); store {settings.db_url}")
        if send and not settings.alert_urls:
            console.print("--send: no alert channel is configured (KSTANCE_ALERT_URLS): nothing will be sent")
        last = max(date.fromisoformat(it["published"]) for it in items if it.get("published"))
        result = run_monitor(settings, (last + timedelta(days=1)).isoformat(), overrides)
    store = settings.open_store()
    print_cycle(console, result)
    print_stance_table(console, store)
    console.print("\nAlerts", style="bold")
    print_alerts(console, store)
    console.print(f"\nstore:  {settings.db_url}")
    console.print(f"report: {(settings.home / 'report' / 'index.html').resolve()}")
    console.print(f"The demo keeps its own store; to look at it again: KSTANCE_HOME={settings.home.resolve()} "
                  f"KSTANCE_DATABASE_URL={settings.db_url} kstance alerts (or judgments, report)", markup=False)
