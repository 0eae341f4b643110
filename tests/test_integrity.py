"""Nothing lost, nothing sent twice (issue 17): real `kstance` processes against a real feed server on 127.0.0.1,
killed with SIGKILL, blocked by a real lock, racing for one store from two homes, with their store file deleted
under them, and fed impossible dates and pages that fail for a moment."""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from flows.demo import demo_items, feed_xml, page_html
from store import repository as repo
from store.models import ArticleRow, FeedRow
from tests.conftest import KSTANCE, ROOT, LoopbackServer, respond, wait_for
from tests.test_backfill import dump, write_archive
from tests.test_cli import one_line_error, run

pytestmark = pytest.mark.flow
TODAY = "2026-07-24"
API: dict[str, str] = {}  # the session's Prefect API, for every kstance process: no ephemeral server per run


@pytest.fixture(scope="module", autouse=True)
def shared_api(prefect_api):
    from prefect.settings import PREFECT_API_URL

    API["PREFECT_API_URL"] = PREFECT_API_URL.value()
    yield
    API.clear()


def env_for(tmp: Path, db: str, feeds: Path | None = None, **extra) -> dict:
    env = {"KSTANCE_DATABASE_URL": db, "KSTANCE_ALLOW_PRIVATE_ADDRESSES": "true", "KSTANCE_POLITENESS_DELAY_S": "0",
           "KSTANCE_REQUEST_TIMEOUT_S": "5", **API}
    if feeds is not None:
        env["KSTANCE_FEEDS"] = str(feeds)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def popen(args, cwd: Path, env: dict) -> subprocess.Popen:
    e = {k: v for k, v in os.environ.items() if not k.startswith(("KSTANCE_", "PREFECT_"))}
    e.update({"KSTANCE_HOME": str(cwd / ".kstance"), **API, **env})
    return subprocess.Popen([KSTANCE, *args], cwd=cwd, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


def sql(db: Path, query: str):
    """A read of the store by another program (None while the file or table is not there yet)."""
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return con.execute(query).fetchall()
        finally:
            con.close()
    except sqlite3.Error:
        return None


def full_dump(db_url: str) -> dict:
    """dump() plus the feeds' validators and the articles' stored dates: table by table."""
    out = dump(db_url)
    store = repo.open_store(db_url)
    with store.session() as s:
        out["feeds"] = sorted((f.url, f.etag, f.last_modified, f.consecutive_failures, f.disabled)
                              for f in s.scalars(select(FeedRow)))
        out["dates"] = sorted((a.url, str(a.published), a.date_problem) for a in s.scalars(select(ArticleRow)))
    store.close()
    return out


class EtagFeed:
    """The demo's items as a feed served with an ETag (answering 304 to a matching If-None-Match) and their pages."""

    def __init__(self, server: LoopbackServer, items: list[dict], pages: dict | None = None):
        self.server, self.items = server, items
        self.etag = '"demo-v1"'
        server.routes["/feed.xml"] = self.feed
        for it in items:
            path = f"/articles/{it['slug']}.html"
            server.routes[path] = (pages or {}).get(it["slug"]) or respond(page_html(it))

    def feed(self, req):
        if req.headers.get("If-None-Match") == self.etag:
            req.send_response(304)
            req.send_header("ETag", self.etag)
            req.send_header("Content-Length", "0")
            req.end_headers()
            return
        respond(feed_xml(self.items, self.server.base), ctype="application/rss+xml",
                headers={"ETag": self.etag, "Last-Modified": "Fri, 24 Jul 2026 06:00:00 GMT"})(req)

    def toml(self, path: Path) -> Path:
        path.write_text(f'[[feeds]]\nname = "loopback"\nurl = "{self.server.url("/feed.xml")}"\noutlet = "demo"\n'
                        'language = "en"\n')
        return path


@pytest.fixture(scope="module")
def demo_feed():
    server = LoopbackServer()
    feed = EtagFeed(server, demo_items())
    yield feed
    server.close()


@pytest.fixture(scope="module")
def uninterrupted(demo_feed, tmp_path_factory):
    """One uninterrupted `kstance run` on the ETag feed: what every interrupted run plus its rerun must equal."""
    tmp = tmp_path_factory.mktemp("clean")
    db = f"sqlite:///{tmp / 'k.db'}"
    proc = run(["run", "--today", TODAY], tmp, env_for(tmp, db, demo_feed.toml(tmp / "feeds.toml")))
    assert proc.returncode == 0, proc.stderr
    expected = full_dump(db)
    assert len(expected["articles"]) >= 9 and expected["judgments"] and expected["alerts"]
    assert expected["feeds"][0][1] == '"demo-v1"'
    return expected


# -- 1. a killed or failed run is finished by the next one --------------------------------------------------------

def test_a_run_killed_after_the_poll_is_finished_by_the_next_run(demo_feed, uninterrupted, tmp_path):
    db = tmp_path / "k.db"
    env = env_for(tmp_path, f"sqlite:///{db}", demo_feed.toml(tmp_path / "feeds.toml"))
    proc = popen(["run", "--today", TODAY], tmp_path, env)
    try:  # the moment the feed's poll is in the store, the run dies
        assert wait_for(lambda: bool(sql(db, "SELECT url FROM feeds")), timeout=300, interval=0.01), \
            proc.communicate()[1] if proc.poll() is not None else "the poll was never recorded"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    rerun = run(["run", "--today", TODAY], tmp_path, env)
    assert rerun.returncode == 0, rerun.stderr
    assert full_dump(f"sqlite:///{db}") == uninterrupted


def test_a_run_failing_on_a_locked_store_is_finished_by_the_next_run(demo_feed, uninterrupted, tmp_path):
    db = tmp_path / "k.db"
    env = env_for(tmp_path, f"sqlite:///{db}", demo_feed.toml(tmp_path / "feeds.toml"), KSTANCE_DB_BUSY_TIMEOUT_S=2)
    proc = popen(["run", "--today", TODAY], tmp_path, env)
    holder = None
    try:  # another writer takes the store's lock right after the poll is recorded, until the run gives up
        assert wait_for(lambda: bool(sql(db, "SELECT url FROM feeds")), timeout=300, interval=0.01)
        holder = sqlite3.connect(db, isolation_level=None, timeout=30)
        holder.execute("BEGIN EXCLUSIVE")
        out, err = proc.communicate(timeout=300)
    finally:
        if holder is not None:
            holder.rollback()
            holder.close()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode != 0 and "locked by another writer" in err
    rerun = run(["run", "--today", TODAY], tmp_path, env)
    assert rerun.returncode == 0, rerun.stderr
    assert full_dump(f"sqlite:///{db}") == uninterrupted


# -- 3. one writer per store, whatever the home or the URL's spelling ------------------------------------------------

HOLD = """
import sys, time
from pathlib import Path
from flows.lock import store_lock
with store_lock(Path(sys.argv[1]), sys.argv[2], "run"):
    print("held", flush=True)
    time.sleep(600)
"""


def test_a_second_writer_from_another_home_and_spelling_is_refused_until_the_first_dies(tmp_path):
    db = tmp_path / "store" / "k.db"
    db.parent.mkdir()
    archive = write_archive(tmp_path / "a.jsonl", 6)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / "home1"), f"sqlite:///{db}"], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        other = f"sqlite:///{tmp_path}/./store//k.db"  # the same file, spelled otherwise, from another home
        err = one_line_error(run(["backfill", str(archive)], tmp_path, {"KSTANCE_DATABASE_URL": other, **API,
                                                                         "KSTANCE_HOME": str(tmp_path / "home2")}))
        assert "in use by kstance run" in err
    finally:
        os.killpg(holder.pid, signal.SIGKILL)  # a holder killed on this host is recognised at once
        holder.wait()
    proc = run(["backfill", str(archive)], tmp_path, {"KSTANCE_DATABASE_URL": other, **API,
                                                      "KSTANCE_HOME": str(tmp_path / "home2")})
    assert proc.returncode == 0, proc.stderr


def _archive_with_a_shift(path: Path, base: str = "https://demo.example") -> Path:
    with open(path, "w") as fh:
        for it in sorted(demo_items(), key=lambda i: i["published"]):
            fh.write(json.dumps({"url": f"{base}/articles/{it['slug']}.html", "title": it["title"],
                                 "published": it["published"], "html": page_html(it), "source": "demo"}) + "\n")
    return path


def test_two_runs_from_two_homes_on_one_store_deliver_each_alert_once_per_channel(tmp_path, server):
    received: dict[str, list[str]] = {"a": [], "b": []}

    def hook(name):
        def route(req):
            n = int(req.headers.get("Content-Length", 0))
            received[name].append(json.loads(req.rfile.read(n))["title"])
            time.sleep(0.5)  # a slow channel: the two runs would overlap while sending
            respond("ok", ctype="text/plain")(req)
        return route

    server.routes["/a"], server.routes["/b"] = hook("a"), hook("b")
    urls = " ".join(server.url(p).replace("http://", "json://") for p in ("/a", "/b"))
    archive = _archive_with_a_shift(tmp_path / "demo.jsonl")
    db = tmp_path / "k.db"
    repo.open_store(f"sqlite:///{db}").close()  # the schema exists: the race is for the writing, not the creating
    procs = []
    for home, url in (("home1", f"sqlite:///{db}"), ("home2", f"sqlite:///{tmp_path}/./k.db")):
        procs.append(
            popen(
                ["backfill", str(archive), "--deliver-alerts"],
                tmp_path,
                {"KSTANCE_DATABASE_URL": url, "KSTANCE_HOME": str(tmp_path / home), "KSTANCE_ALERT_URLS": urls},
            )
        )
    results = [(p.wait(timeout=600), p.stderr.read()) for p in procs]
    assert any(code == 0 for code, _ in results), results
    for code, err in results:
        assert code == 0 or "in use by kstance backfill" in err, err
    alerts = dump(f"sqlite:///{db}")["alerts"]
    assert alerts and len(received["a"]) == len(alerts)
    for name in ("a", "b"):
        assert len(received[name]) == len(set(received[name])) == len(alerts), received


# -- the store's own rules, on SQLite and PostgreSQL ------------------------------------------------------------------

def test_nul_characters_and_impossible_dates_never_reach_the_store(store):
    from datetime import date

    from classifiers.stance import Judgment
    from extractors.article import Article

    arts = [Article(url=f"https://e.com/{i}", title="Se\x00oul", text="Tokyo\x00 talks", published=day,
                    source="Yon\x00hap", reason=None)
            for i, day in enumerate([date(1, 1, 1), date(9999, 12, 31), date(2024, 5, 1)])]
    with store.session() as s:  # PostgreSQL refuses NUL in text: this transaction would fail whole
        for a in arts:
            repo.save_article(s, a, origin="arch\x00ive.jsonl")
            repo.save_judgments(s, a.url, [Judgment("JP", "cooperative", 0.5, 0.8, ("Tok\x00yo",), 1)], "v1")
    with store.session() as s:
        rows = {a.url: a for a in s.scalars(select(ArticleRow))}
    assert all("\x00" not in r.title + r.text + r.source + r.origin for r in rows.values())
    assert rows["https://e.com/0"].published is None and "before 1990-01-01" in rows["https://e.com/0"].date_problem
    assert rows["https://e.com/1"].published is None and "9999-12-31" in rows["https://e.com/1"].date_problem
    assert str(rows["https://e.com/2"].published) == "2024-05-01" and rows["https://e.com/2"].date_problem is None
    assert [o.url for o in repo.series(store, "JP")] == ["https://e.com/2"]  # detection sees the plausible one only
    assert [r for r in repo.stance_table(store) if r["actor"] == "JP"][0]["n"] == 1


def test_date_arithmetic_is_safe_at_the_edges_of_the_calendar():
    from datetime import date

    from extractors.article import date_problem, shift_days

    assert shift_days(date(1, 1, 1), -30) == date.min and shift_days(date(9999, 12, 31), 7) == date.max
    assert date_problem(date(9999, 12, 31), date(9999, 12, 30)) is None  # within two days of "today"
    assert (
        date_problem(date(2026, 12, 3), date(2026, 11, 30))
        and date_problem(date(2026, 12, 2), date(2026, 11, 30)) is None
    )


def test_the_writer_lease_is_held_once_taken_over_when_expired_and_released(store):
    from datetime import timedelta

    ttl = timedelta(seconds=60)
    repo.acquire_lease(store, "otherhost:1:1", "kstance run (pid 1)", ttl)
    with pytest.raises(repo.LeaseHeld, match="kstance run \\(pid 1\\) on otherhost"):
        repo.acquire_lease(store, repo.process_owner(), "kstance backfill", ttl)
    repo.acquire_lease(store, "otherhost:1:1", "kstance run (pid 1)", ttl)  # its holder may take it again
    with pytest.raises(repo.LeaseHeld):
        repo.acquire_lease(store, "otherhost:2:2", "kstance run (pid 2)", timedelta(seconds=-1))
    assert not repo.renew_lease(store, repo.process_owner(), ttl)
    repo.release_lease(store, "otherhost:1:1")
    repo.acquire_lease(store, "otherhost:2:2", "kstance run (pid 2)", timedelta(seconds=-1))  # free: taken, expired
    repo.acquire_lease(store, repo.process_owner(), "kstance backfill", ttl)  # an expired lease is taken over
    assert repo.renew_lease(store, repo.process_owner(), ttl)
