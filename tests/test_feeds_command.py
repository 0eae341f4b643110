"""`kstance feeds`: each configured feed's health, and `--reset` to clear a back-off or re-enable a disabled feed.
The feed states are written by the store's own functions (as a run writes them); the command runs as a user's."""
import json
from datetime import timedelta

from store import repository as repo
from tests.test_usage import run, usage_error

FEEDS = ('[[feeds]]\nname = "healthy"\nurl = "https://a.example/feed.xml"\n'
         '[[feeds]]\nname = "flaky"\nurl = "https://b.example/feed.xml"\n'
         '[[feeds]]\nname = "dead"\nurl = "https://c.example/feed.xml"\n'
         '[[feeds]]\nname = "new"\nurl = "https://d.example/feed.xml"\n'
         '[[feeds]]\nname = "paused"\nurl = "https://e.example/feed.xml"\nenabled = false\n')


def _setup(tmp_path):
    (tmp_path / "feeds.toml").write_text(FEEDS)
    home = tmp_path / ".kstance"
    home.mkdir()
    store = repo.open_store(f"sqlite:///{home / 'kstance.db'}")
    poll = dict(outlet="", language="en", etag=None, last_modified=None, items=0, max_failures=3,
                base_interval=timedelta(hours=1))
    repo.record_poll(store, "https://a.example/feed.xml", name="healthy", ok=True, error=None, **poll)
    repo.record_poll(store, "https://b.example/feed.xml", name="flaky", ok=False, error="HTTP 503", **poll)
    for _ in range(3):
        repo.record_poll(store, "https://c.example/feed.xml", name="dead", ok=False, error="connection refused", **poll)
    from extractors.article import Article

    with store.session() as s:
        for i in range(2):
            art = Article(url=f"https://a.example/{i}", title="t", text="x", published=None)
            repo.save_article(s, art, origin="https://a.example/feed.xml")
    store.close()
    return {"KSTANCE_FEEDS": str(tmp_path / "feeds.toml")}


def _rows(tmp_path, env):
    proc = run(["feeds", "--format", "jsonl"], tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    return {r["name"]: r for r in map(json.loads, proc.stdout.splitlines())}


def test_feeds_shows_state_url_last_success_failures_next_try_and_articles(tmp_path):
    env = _setup(tmp_path)
    rows = _rows(tmp_path, env)
    assert list(rows) == ["healthy", "flaky", "dead", "new", "paused"]
    assert rows["healthy"]["state"] == "ok" and rows["healthy"]["articles"] == 2 and rows["healthy"]["last_success"]
    assert rows["healthy"]["url"] == "https://a.example/feed.xml" and rows["healthy"]["next_try"] == "next run"
    assert rows["flaky"]["state"] == "backing off" and rows["flaky"]["consecutive_failures"] == 1
    assert rows["flaky"]["next_try"].endswith("UTC") and rows["flaky"]["problem"] == "HTTP 503"
    assert rows["dead"]["state"] == "disabled" and rows["dead"]["consecutive_failures"] == 3
    assert "3 failures in a row; last: connection refused" in rows["dead"]["problem"]
    assert rows["new"]["state"] == "never polled" and rows["new"]["last_success"] is None
    assert rows["paused"]["state"] == "off"

    text = run(["feeds"], tmp_path, env=env)
    assert text.returncode == 0, text.stderr
    for word in ("name", "url", "state", "last success", "failures", "next try", "articles", "https://b.example/feed.xml",
                 "backing off", "disabled", "never polled"):
        assert word in text.stdout, (word, text.stdout)


def test_reset_one_feed_clears_its_back_off_and_re_enables_it(tmp_path):
    env = _setup(tmp_path)
    proc = run(["feeds", "--reset", "dead"], tmp_path, env=env)
    assert proc.returncode == 0 and "reset dead: back-off cleared, enabled" in proc.stdout, proc
    rows = _rows(tmp_path, env)
    assert rows["dead"]["state"] == "ok" and rows["dead"]["consecutive_failures"] == 0
    assert rows["dead"]["next_try"] == "next run"
    assert rows["flaky"]["state"] == "backing off"  # only the one named


def test_reset_all_and_by_url(tmp_path):
    env = _setup(tmp_path)
    assert run(["feeds", "--reset", "https://b.example/feed.xml"], tmp_path, env=env).returncode == 0
    assert _rows(tmp_path, env)["flaky"]["state"] == "ok"
    proc = run(["feeds", "--all"], tmp_path, env=env)
    assert proc.returncode == 0 and "reset new: never polled, nothing to reset" in proc.stdout, proc
    assert {r["state"] for r in _rows(tmp_path, env).values()} == {"ok", "never polled", "off"}


def test_reset_of_an_unknown_feed_is_a_usage_error(tmp_path):
    env = _setup(tmp_path)
    line = usage_error(run(["feeds", "--reset", "nope"], tmp_path, env=env))
    assert "no feed named 'nope'" in line and "'healthy'" in line
    line = usage_error(run(["feeds", "--reset", "dead", "--all"], tmp_path, env=env))
    assert "not both" in line
