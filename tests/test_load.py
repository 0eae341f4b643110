"""Many feeds in one cycle (the load test at test scale; 200 feeds x 50 items is `python -m benchmarks.load`):
the cycle completes, every feed is recorded healthy, and no more requests are in flight at once than
`max_concurrent_requests` allows."""
from sqlalchemy import func, select

from benchmarks.load import bench_items
from flows.demo import DemoServer
from store import repository as repo
from store.models import ArticleRow
from tests.test_cli import run


def test_many_feeds_complete_with_bounded_concurrency(tmp_path):
    n_feeds, per_feed = 12, 4
    with DemoServer(
        bench_items(n_feeds * per_feed, sentences=2), feeds=n_feeds, delay=0.2
    ) as srv:  # a slow outlet: each page takes 0.2 s; two sentences a page (what is judged is not what is tested)
        feeds = tmp_path / "feeds.toml"
        feeds.write_text("".join(f'[[feeds]]\nname = "load {k}"\nurl = "{u}"\n' for k, u in enumerate(srv.feed_urls())))
        db = f"sqlite:///{tmp_path / 'k.db'}"
        proc = run(["run"], tmp_path, {"KSTANCE_FEEDS": str(feeds), "KSTANCE_DATABASE_URL": db,
                                       "KSTANCE_ALLOW_PRIVATE_ADDRESSES": "true", "KSTANCE_POLITENESS_DELAY_S": "0",
                                       "KSTANCE_MAX_CONCURRENT_REQUESTS": "3"}, timeout=600)
        assert proc.returncode == 0, proc.stderr
        assert 2 <= srv.max_in_flight <= 3  # concurrent, and never beyond the setting
        assert srv.requests >= n_feeds * (per_feed + 1)
    store = repo.open_store(db)
    rows = repo.all_feeds(store)
    assert len(rows) == n_feeds and all(r.consecutive_failures == 0 and not r.disabled for r in rows)
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(ArticleRow)) == n_feeds * per_feed
    store.close()
