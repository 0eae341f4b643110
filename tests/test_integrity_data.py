"""Nothing lost, nothing sent twice (issue 17), continued from tests/test_integrity.py (split in two so that the
suite's two workers share it): impossible dates through every command, the store file deleted or replaced under a
running backfill, and pages that fail for a moment or for good; real `kstance` processes against a real feed server
on 127.0.0.1."""
import json
import os
import signal

import pytest
from sqlalchemy import select

from flows.demo import demo_items, feed_xml, page_html
from store import repository as repo
from store.models import ArticleRow
from tests.conftest import ROOT, respond, wait_for
from tests.test_backfill import write_archive
from tests.test_cli import run
from tests.test_integrity import (  # noqa: F401  (shared_api: the module's autouse fixture, as in test_integrity)
    TODAY,
    EtagFeed,
    _archive_with_a_shift,
    env_for,
    popen,
    shared_api,
    sql,
)

pytestmark = pytest.mark.flow


# -- 4. impossible dates ---------------------------------------------------------------------------------------------

def test_impossible_dates_are_kept_with_their_problem_and_every_command_keeps_working(tmp_path, server):
    from classifiers.corpus import dev_examples

    sents = [e.text for e in dev_examples()]

    def body(k: int) -> str:  # distinct article bodies that name actors: they are judged, not folded as duplicates
        return " ".join(sents[(k * 6 + j) % len(sents)] for j in range(6))

    archive = _archive_with_a_shift(tmp_path / "demo.jsonl")
    with open(archive, "a") as fh:
        for i, day in enumerate(["0001-01-01", "9999-12-28", "9999-12-29", "9999-12-30", "9999-12-31",
                                 "1989-12-31", "2999-01-01"]):
            fh.write(json.dumps({"url": f"https://odd.example/{i}", "title": f"Odd {i}", "published": day,
                                 "text": body(i)}) + "\n")
    # a feed whose item carries Go's and .NET's zero time
    zero = {"slug": "zero-time", "title": "Zero time", "published": "2024-01-01", "outlet": "demo", "text": body(20)}
    xml = feed_xml([zero], server.base).replace("Mon, 01 Jan 2024 09:00:00 +0000", "0001-01-01T00:00:00Z")
    assert "0001-01-01T00:00:00Z" in xml
    server.routes["/feed.xml"] = respond(xml, ctype="application/rss+xml")
    server.routes["/articles/zero-time.html"] = respond(page_html(zero).replace(
        "<meta name='date' content='2024-01-01'>", "").replace("<time datetime='2024-01-01'>2024-01-01</time>", ""))
    feeds = tmp_path / "feeds.toml"
    feeds.write_text(f'[[feeds]]\nname = "zero"\nurl = "{server.url("/feed.xml")}"\noutlet = "demo"\n')
    db = f"sqlite:///{tmp_path / 'k.db'}"
    env = env_for(tmp_path, db, feeds)
    proc = run(["backfill", str(archive)], tmp_path, env)
    assert proc.returncode == 0, proc.stderr
    for args in (["run"], ["alerts"], ["alerts", "--format", "jsonl"], ["report"], ["run"]):
        proc = run(args, tmp_path, env)
        assert proc.returncode == 0, (args, proc.stderr)
    store = repo.open_store(db)
    with store.session() as s:
        odd = {a.url: (a.published, a.date_problem) for a in s.scalars(select(ArticleRow))
               if a.url.startswith("https://odd.example") or "zero-time" in a.url}
    store.close()
    assert len(odd) == 8
    assert all(pub is None and problem and "implausible publication date" in problem for pub, problem in odd.values())
    assert "9999-12-31" in odd["https://odd.example/4"][1] and "before 1990-01-01" in odd["https://odd.example/5"][1]


def test_a_store_with_impossible_dates_from_before_the_fix_is_repaired_by_its_migration(tmp_path):
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, text

    db = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(db)
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "store" / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        for i, day in enumerate(["0001-01-01", "9999-12-31", "2024-05-01"]):
            conn.execute(text("INSERT INTO articles (url, title, source, published, status, content_hash, text, "
                              "first_seen) VALUES (:u, '', '', :d, 'ok', 'h', '', '2026-01-01 00:00:00')"),
                         {"u": f"https://e.com/{i}", "d": day})
    engine.dispose()
    store = repo.open_store(db)  # migrates to the newest revision
    with store.session() as s:
        rows = {a.url: (a.published, a.date_problem) for a in s.scalars(select(ArticleRow))}
    assert rows["https://e.com/0"][0] is None and "0001-01-01" in rows["https://e.com/0"][1]
    assert rows["https://e.com/1"][0] is None and "9999-12-31" in rows["https://e.com/1"][1]
    assert str(rows["https://e.com/2"][0]) == "2024-05-01" and rows["https://e.com/2"][1] is None
    assert repo.stance_table(store)  # works again
    store.close()


# -- 5. the store's identity ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_store_file_deleted_or_replaced_during_a_backfill_is_an_error(tmp_path, how):
    archive = write_archive(tmp_path / "a.jsonl", 150)  # three of the backfill's 64-article batches: it writes again
    db = tmp_path / "k.db"
    spare = tmp_path / "spare.db"
    repo.open_store(f"sqlite:///{spare}").close()
    proc = popen(["backfill", str(archive)], tmp_path, {"KSTANCE_DATABASE_URL": f"sqlite:///{db}"})
    try:
        assert wait_for(lambda: (sql(db, "SELECT count(*) FROM articles") or [(0,)])[0][0] > 0, timeout=300,
                        interval=0.02), proc.communicate()[1] if proc.poll() is not None else "no article stored"
        if how == "deleted":
            db.unlink()
        else:
            os.replace(spare, db)
        out, err = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode != 0, out
    assert f"was {how}" in err and "Traceback" not in err


# -- 8. a page that failed for a moment --------------------------------------------------------------------------------

def test_a_page_that_failed_transiently_is_fetched_again_on_later_runs(tmp_path, server):
    items = demo_items()[:3]
    answers = {"count": 0}
    flaky_slug = items[0]["slug"]

    def flaky(req):
        answers["count"] += 1
        if answers["count"] == 1:
            respond("busy", status=503, ctype="text/plain")(req)
        else:
            respond(page_html(items[0]))(req)

    feed = EtagFeed(server, items, pages={flaky_slug: flaky})
    db = f"sqlite:///{tmp_path / 'k.db'}"
    env = env_for(tmp_path, db, feed.toml(tmp_path / "feeds.toml"), KSTANCE_PAGE_RETRY_DELAY_S=0)
    assert run(["run", "--today", TODAY], tmp_path, env).returncode == 0
    store = repo.open_store(db)

    def flaky_row():
        with store.session() as s:
            return next(a for a in s.scalars(select(ArticleRow)) if flaky_slug in a.url)

    first = flaky_row()
    assert first.status == "unextractable" and "HTTP 503" in first.reason and first.retry_after is not None
    proc = run(["run", "--today", TODAY], tmp_path, env)  # the feed answers 304: the page is fetched all the same
    assert proc.returncode == 0, proc.stderr
    assert "not modified" in proc.stdout
    second = flaky_row()
    assert second.status != "unextractable" and second.retry_after is None and second.text
    assert answers["count"] == 2
    store.close()


def test_a_page_that_keeps_failing_is_given_up_after_its_attempts(tmp_path, server):
    items = demo_items()[:2]
    hits = []

    def down(req):
        hits.append(1)
        respond("busy", status=503, ctype="text/plain")(req)

    feed = EtagFeed(server, items, pages={items[0]["slug"]: down})
    db = f"sqlite:///{tmp_path / 'k.db'}"
    env = env_for(tmp_path, db, feed.toml(tmp_path / "feeds.toml"), KSTANCE_PAGE_RETRY_DELAY_S=0,
                  KSTANCE_PAGE_RETRY_LIMIT=2)
    for _ in range(3):
        assert run(["run", "--today", TODAY], tmp_path, env).returncode == 0
    assert len(hits) == 2
    store = repo.open_store(db)
    with store.session() as s:
        row = next(a for a in s.scalars(select(ArticleRow)) if items[0]["slug"] in a.url)
    assert row.retry_after is None and "gave up after 2 attempts" in row.reason
    store.close()
