"""The walking skeleton through the real Prefect flows: loopback feed -> extract -> judge -> store -> shift -> alert,
and the same articles replayed as a backfill giving the same judgments and the same shifts."""
import json

import pytest
from sqlalchemy import select

from flows.demo import DemoServer, demo_items
from store import repository as repo
from store.models import ArticleRow, JudgmentRow

pytestmark = pytest.mark.flow


def _store_view(db_url):
    store = repo.open_store(db_url)
    with store.session() as s:
        judgments = sorted((j.article_url.rsplit("/", 1)[-1], j.actor, j.stance, round(j.score, 4))
                           for j in s.scalars(select(JudgmentRow)))
        statuses = sorted((a.url.rsplit("/", 1)[-1], a.status) for a in s.scalars(select(ArticleRow)))
    shifts = [(a.actor, a.from_stance, a.to_stance, a.detected_at) for a, _ in repo.alerts(store)]
    store.close()
    return judgments, statuses, shifts


def read_artifacts(keys: list[str]) -> list[dict]:
    """Artifacts by key, from the test API's REST endpoint (prefect 3.8's sync client sends nulls it rejects)."""
    import httpx
    from prefect.settings import PREFECT_API_URL

    body = {"artifacts": {"key": {"any_": keys}}, "limit": 200, "offset": 0, "sort": "CREATED_DESC"}
    r = httpx.post(f"{PREFECT_API_URL.value()}/artifacts/filter", json=body, timeout=30)
    r.raise_for_status()
    return r.json()


def _feeds_toml(path, url):
    path.write_text(f'[[feeds]]\nname = "loopback"\nurl = "{url}"\noutlet = "demo"\nlanguage = "en"\n'
                    '[[feeds]]\nname = "dead feed"\nurl = "http://127.0.0.1:9/feed.xml"\noutlet = "dead"\n')
    return path


def test_monitor_cycle_then_rerun_then_backfill_agree(prefect_api, kstance_env, tmp_path, monkeypatch):
    from flows.backfill import backfill
    from flows.monitor import monitor

    items = demo_items()
    today = "2026-07-24"
    with DemoServer(items) as srv:
        monkeypatch.setenv("KSTANCE_FEEDS", str(_feeds_toml(tmp_path / "feeds.toml", f"{srv.base}/feed.xml")))
        first = monitor(today=today)
        second = monitor(today=today)
    assert {f["feed"]: f["status"] for f in first["feeds"]} == {"loopback": "ok", "dead feed": "error"}
    assert first["judged"] >= 8 and first["duplicates"] == 1
    assert "names none of the followed actors (US, CN, JP, KP, RU)" in first["skipped"]
    assert second["judged"] == 0 and second["new_alerts"] == []  # idempotent: nothing new, nothing re-sent
    judgments, statuses, shifts = _store_view(f"sqlite:///{kstance_env / 'kstance.db'}")
    assert "Japan" in (kstance_env / "report" / "index.html").read_text()  # the flow writes the report itself
    kinds = {a["key"]: a for a in read_artifacts(["kstance-monitor", "kstance-report"])}
    assert "| JP |" in kinds["kstance-monitor"]["data"] and "index.html" in kinds["kstance-report"]["data"]
    assert ("dokdo-white-paper-protest.html", "JP", "confrontational") in [j[:3] for j in judgments]
    assert any(s[0] == "JP" and s[2] == "confrontational" for s in shifts)

    # the same articles, replayed from an archive into a fresh store
    archive = tmp_path / "same.jsonl"
    with open(archive, "w") as fh:
        for it in sorted(items, key=lambda i: i["published"]):
            from flows.demo import page_html

            fh.write(json.dumps({"url": f"{srv.base}/articles/{it['slug']}.html", "title": it["title"],
                                 "published": it["published"], "html": page_html(it), "source": "demo"}) + "\n")
    monkeypatch.setenv("KSTANCE_DATABASE_URL", f"sqlite:///{tmp_path / 'backfill.db'}")
    result = backfill([str(archive)])
    assert result["judged"] == first["judged"]
    replay = _store_view(f"sqlite:///{tmp_path / 'backfill.db'}")
    assert replay[0] == judgments and replay[2] == shifts
    store = repo.open_store(f"sqlite:///{tmp_path / 'backfill.db'}")
    assert all(a.historical for a, _ in repo.alerts(store))


def test_secrets_never_reach_logs_output_or_artifacts_when_delivery_fails(
    prefect_api, kstance_env, tmp_path, monkeypatch, caplog, capfd
):
    """A cycle that finds the demo's shift and fails to deliver it (SMTP and Slack both down): the password and the
    webhook token are nowhere in the logs, the terminal, the flow's result, the store's errors or the artifacts."""
    import logging
    import socket

    from flows.monitor import monitor

    secret_pw, secret_token = "pw-Zq81xKs", "tok3nXyZ98765abc"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]  # nothing listens here
    monkeypatch.setenv(
        "KSTANCE_ALERT_URLS",
        f"mailto://desk:{secret_pw}@127.0.0.1:{dead_port}?from=k@example.com&to=d@example.com "
        f"json://desk:{secret_token}@127.0.0.1:{dead_port}/hook",
    )
    caplog.set_level(logging.DEBUG)
    with DemoServer(demo_items()) as srv:
        monkeypatch.setenv("KSTANCE_FEEDS", str(_feeds_toml(tmp_path / "feeds.toml", f"{srv.base}/feed.xml")))
        result = monitor(today="2026-07-24")
    assert result["new_alerts"] and len(result["delivery_failures"]) == 2
    store = repo.open_store(f"sqlite:///{kstance_env / 'kstance.db'}")
    errors = [d.last_error or "" for _, ds in repo.alerts(store) for d in ds]
    assert all(d.state == "failed" for _, ds in repo.alerts(store) for d in ds)
    arts = read_artifacts(["kstance-monitor", "kstance-report", "kstance-backfill", "kstance-backfill-progress"])
    assert arts
    artifacts = " ".join(str(a["data"]) for a in arts)
    out, err = capfd.readouterr()
    haystack = " ".join([caplog.text, out, err, json.dumps(result), " ".join(errors), artifacts])
    assert secret_pw not in haystack and secret_token not in haystack


def test_hanging_resetting_and_garbage_feeds_fail_alone_and_the_cycle_finishes(
    prefect_api, kstance_env, tmp_path, monkeypatch
):
    import socket
    import time as _time

    from flows.monitor import monitor
    from tests.conftest import LoopbackServer, respond

    srv = LoopbackServer()

    def hang(req):
        _time.sleep(8)  # longer than the 5 s timeout the test settings give

    def reset(req):
        req.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        req.connection.close()

    srv.routes["/hang.xml"] = hang
    srv.routes["/reset.xml"] = reset
    srv.routes["/garbage.xml"] = respond(bytes(range(256)) * 40, ctype="application/rss+xml")
    with DemoServer(demo_items()[:3]) as good:
        feeds = tmp_path / "feeds.toml"
        feeds.write_text("".join(f'[[feeds]]\nname = "{n}"\nurl = "{u}"\n' for n, u in [
            ("good", f"{good.base}/feed.xml"), ("hang", srv.url("/hang.xml")), ("reset", srv.url("/reset.xml")),
            ("garbage", srv.url("/garbage.xml"))]))
        monkeypatch.setenv("KSTANCE_FEEDS", str(feeds))
        result = monitor(today="2026-07-24")
    srv.close()
    status = {f["feed"]: (f["status"], f["error"] or "") for f in result["feeds"]}
    assert status["good"][0] == "ok" and result["judged"] >= 2
    for name in ("hang", "reset", "garbage"):
        assert status[name][0] == "error" and status[name][1], name
    assert "timed out" in status["hang"][1]
    store = repo.open_store(f"sqlite:///{kstance_env / 'kstance.db'}")
    failing = {f.name: f.consecutive_failures for f in repo.all_feeds(store)}
    assert failing == {"good": 0, "hang": 1, "reset": 1, "garbage": 1}
