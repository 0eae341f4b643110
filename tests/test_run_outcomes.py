"""How a run ends, as an operator sees it (real subprocesses, real loopback servers): a progress line per feed on
stderr; exit 1 with a line when every feed failed, every feed is disabled, no alert could be delivered, or an
archive could not be read at all; exit 0 with a line when nothing was due. The model is loaded only when there
is something to judge: these runs point KSTANCE_MODEL at a folder that does not exist, which would fail a load."""
import socket

import pytest

from flows.demo import DemoServer, demo_items
from tests.conftest import LoopbackServer
from tests.test_usage import run as _run


def run(args, cwd, env=None, timeout=600):
    return _run(args, cwd, env=env, timeout=timeout)  # a whole cycle: Prefect's temporary API starts in each

pytestmark = pytest.mark.slow

NO_MODEL = "/nonexistent/kstance-test-model"


def _dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/feed.xml"  # nothing listens here


def _env(tmp_path, feeds: str, **more) -> dict:
    (tmp_path / "feeds.toml").write_text(feeds)
    return {"KSTANCE_FEEDS": str(tmp_path / "feeds.toml"), "KSTANCE_ALLOW_PRIVATE_ADDRESSES": "true",
            "KSTANCE_POLITENESS_DELAY_S": "0", "KSTANCE_REQUEST_TIMEOUT_S": "5", "KSTANCE_MODEL": NO_MODEL, **more}


def _last_error(proc) -> str:
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert "Traceback" not in proc.stderr + proc.stdout
    assert lines and lines[-1].startswith("kstance: error: "), proc.stderr
    assert sum(ln.startswith("kstance: error: ") for ln in lines) == 1
    return lines[-1]


def test_failing_then_backing_off_then_disabled_feeds(tmp_path):
    env = _env(tmp_path, f'[[feeds]]\nname = "dead"\nurl = "{_dead_url()}"\n')
    first = run(["run"], tmp_path, env=env)
    assert first.returncode == 1, first.stderr
    assert "polling 1 of 1 feeds" in first.stderr and "[1/1] dead: error:" in first.stderr
    assert "every feed that was due failed (1)" in _last_error(first)

    second = run(["run"], tmp_path, env=env)  # backing off: nothing due, which is not a failure
    assert second.returncode == 0, second.stderr
    assert "nothing was due: 1 feed(s) backing off" in second.stdout

    assert run(["feeds", "--reset", "dead"], tmp_path, env=env).returncode == 0
    env["KSTANCE_MAX_FEED_FAILURES"] = "1"
    third = run(["run"], tmp_path, env=env)  # polled again at once; with a limit of 1, this failure disables it
    assert third.returncode == 1 and "every feed that was due failed" in _last_error(third)
    fourth = run(["run"], tmp_path, env=env)
    assert fourth.returncode == 1
    assert "every feed is disabled (1)" in _last_error(fourth) and "kstance feeds --all" in fourth.stderr


def test_an_unchanged_feed_is_a_quiet_success_without_the_model(tmp_path):
    srv = LoopbackServer()
    rss = b"<?xml version='1.0'?><rss version='2.0'><channel><title>quiet</title><link>http://x/</link></channel></rss>"

    def feed(req):
        if req.headers.get("If-None-Match") == '"v1"':
            req.send_response(304)
            req.send_header("Content-Length", "0")
            req.end_headers()
            return
        req.send_response(200)
        req.send_header("Content-Type", "application/rss+xml")
        req.send_header("ETag", '"v1"')
        req.send_header("Content-Length", str(len(rss)))
        req.end_headers()
        req.wfile.write(rss)

    srv.routes["/feed.xml"] = feed
    try:
        env = _env(tmp_path, f'[[feeds]]\nname = "quiet"\nurl = "{srv.url("/feed.xml")}"\n')
        first = run(["run"], tmp_path, env=env)
        assert first.returncode == 0, first.stderr
        second = run(["run"], tmp_path, env=env)
        assert second.returncode == 0, second.stderr
        assert "[1/1] quiet: not modified" in second.stderr and "judged 0 articles" in second.stdout
        assert srv.hits[-1][1].get("If-None-Match") == '"v1"'
    finally:
        srv.close()


def test_an_empty_backfill_does_not_load_the_model(tmp_path):
    (tmp_path / "empty.jsonl").write_text("")
    proc = run(["backfill", "empty.jsonl"], tmp_path, env=_env(tmp_path, ""))
    assert proc.returncode == 0, proc.stderr
    assert "read 0" in proc.stdout


def test_an_archive_that_cannot_be_read_at_all_exits_1(tmp_path):
    (tmp_path / "bad.jsonl").write_text("not json\n{\"url\": 3}\n[1, 2]\n")
    (tmp_path / "empty.jsonl").write_text("")
    proc = run(["backfill", "empty.jsonl", "bad.jsonl"], tmp_path, env=_env(tmp_path, ""))
    assert proc.returncode == 1, proc.stderr
    line = _last_error(proc)
    assert "nothing could be read from bad.jsonl" in line and "empty.jsonl" not in line


def test_every_alert_delivery_failing_exits_1(tmp_path):
    dead = _dead_url().removeprefix("http://").removesuffix("/feed.xml")
    with DemoServer(demo_items()) as srv:
        env = _env(tmp_path, f'[[feeds]]\nname = "loopback"\nurl = "{srv.base}/feed.xml"\nlanguage = "en"\n',
                   KSTANCE_ALERT_URLS=f"json://{dead}/hook")
        env.pop("KSTANCE_MODEL")  # this one judges
        proc = run(["run", "--today", "2026-07-24"], tmp_path, env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "judging" in proc.stderr and "delivery failed: json:" in proc.stdout
    assert "no alert could be delivered" in _last_error(proc)
