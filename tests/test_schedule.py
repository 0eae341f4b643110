"""The daily schedule really runs: `kstance serve` (with no PREFECT_API_URL: its own local `prefect server start`
on 127.0.0.1, the deployments registered with the configured schedule) on an every-minute cron, against a loopback
feed. Prefect's scheduler must create a flow run, the runner must execute it to COMPLETED, and the store must hold
the feed's articles; the Prefect CLI the README points to must work against that server. One server and one run:
about 1.5 to 3 minutes on 2 idle cores, mostly the minute boundary and start-ups."""

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest

from flows.demo import DemoServer, demo_items

pytestmark = pytest.mark.slow

KSTANCE = str(Path(sys.executable).with_name("kstance"))
PREFECT = str(Path(sys.executable).with_name("prefect"))
FINAL = ["COMPLETED", "FAILED", "CRASHED", "CANCELLED"]


def _runs(api: str, states: list[str]) -> list[dict]:
    # filtered by state: unfiltered, Prefect lists the future SCHEDULED runs first
    body = {"flow_runs": {"state": {"type": {"any_": states}}}, "sort": "START_TIME_DESC", "limit": 10, "offset": 0}
    r = httpx.post(f"{api}/flow_runs/filter", json=body, timeout=20)
    r.raise_for_status()
    return r.json()


def test_serve_runs_the_monitor_on_its_schedule_and_the_prefect_cli_works(tmp_path):
    items = demo_items()[:3]
    with DemoServer(items) as feed:
        (tmp_path / "feeds.toml").write_text(f'[[feeds]]\nname = "loopback"\nurl = "{feed.base}/feed.xml"\n'
                                             'outlet = "demo"\nlanguage = "en"\n')
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KSTANCE_", "PREFECT_"))}
        env.update({"KSTANCE_HOME": str(tmp_path / ".kstance"), "KSTANCE_FEEDS": str(tmp_path / "feeds.toml"),
                    "KSTANCE_ALLOW_PRIVATE_ADDRESSES": "true", "KSTANCE_POLITENESS_DELAY_S": "0",
                    "KSTANCE_SCHEDULE_CRON": "* * * * *", "KSTANCE_SCHEDULE_TIMEZONE": "UTC",
                    # Prefect's own clocks, shortened for the test: its scheduler service looks for deployments to
                    # schedule every 60 s and the runner polls for due runs every 10 s by default
                    "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "5", "PREFECT_RUNNER_POLL_FREQUENCY": "2"})
        serve = subprocess.Popen([KSTANCE, "serve"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True, start_new_session=True)
        lines: list[str] = []
        threading.Thread(target=lambda: lines.extend(iter(serve.stdout.readline, "")), daemon=True).start()
        try:
            deadline = time.monotonic() + 330  # the server's start-up: 10 to 60 s, more on a loaded machine
            while not any("serving monitor on" in ln for ln in lines):
                assert serve.poll() is None and time.monotonic() < deadline, "".join(lines)
                time.sleep(0.5)
            url = next(ln for ln in lines if "Prefect server at " in ln).split("Prefect server at ", 1)[1].split()[0]
            api = f"{url}/api"
            assert "local Prefect server" in "".join(lines)  # no PREFECT_API_URL: serve started one of its own

            # the three deployments are registered, the monitor with the configured schedule
            deps = []
            while len(deps) < 3:
                assert time.monotonic() < deadline, "".join(lines)
                r = httpx.post(f"{api}/deployments/filter", json={}, timeout=20)
                deps = r.json() if r.status_code == 200 else []
                time.sleep(1)
            daily = {d["name"]: d for d in deps}["kstance-daily"]
            assert [(s["schedule"]["cron"], s["schedule"]["timezone"]) for s in daily["schedules"]] == \
                [("* * * * *", "UTC")]

            # the scheduler creates runs for the coming minutes; the runner starts the first one on time ...
            deadline = time.monotonic() + 150
            while not _runs(api, ["PENDING", "RUNNING", *FINAL]):
                assert serve.poll() is None, "".join(lines)
                assert time.monotonic() < deadline, "no scheduled run started within 150 s:\n" + "".join(lines) \
                    + (tmp_path / ".kstance" / "prefect-server.log").read_text()[-3000:]
                time.sleep(2)
            # ... and runs it to the end (the cycle's own time: start-up, the model, three pages)
            deadline = time.monotonic() + 300
            done: list[dict] = []
            while not done:
                assert serve.poll() is None, "".join(lines)
                assert time.monotonic() < deadline, "the scheduled run did not finish within 300 s:\n" + "".join(lines)
                done = _runs(api, FINAL)
                time.sleep(2)
            run = done[0]
            assert run["state_type"] == "COMPLETED", (run["state"], "".join(lines))
            assert run["auto_scheduled"] is True  # made by the scheduler, not by hand
            assert feed.requests >= 1 + len(items)  # the feed and its pages were fetched

            from store import repository as repo

            store = repo.open_store(f"sqlite:///{tmp_path / '.kstance' / 'kstance.db'}")
            try:
                assert repo.articles_per_origin(store) == {f"{feed.base}/feed.xml": len(items)}  # the store changed
                assert [f.name for f in repo.all_feeds(store)] == ["loopback"]
            finally:
                store.close()

            # the Prefect CLI against the same server (it sent "limit": null, refused with 422 by fastapi >= 0.151)
            cli_env = {**env, "PREFECT_API_URL": api, "PREFECT_HOME": str(tmp_path / "cli-prefect-home"),
                       "COLUMNS": "200"}
            # (unfiltered, `flow-run ls` shows the next hour's SCHEDULED runs first)
            for args, expect in ((["deployment", "ls"], "kstance-daily"), (["flow-run", "ls"], "SCHEDULED"),
                                 (["flow-run", "ls", "--state-type", "COMPLETED"], run["name"])):
                proc = subprocess.run([PREFECT, *args], env=cli_env, capture_output=True, text=True, timeout=120)
                assert proc.returncode == 0, proc.stdout + proc.stderr
                assert expect in proc.stdout, proc.stdout
                # an HTTP 422 reply, not the digits inside a run's id ("...-4226ff74a7dc" failed this check once)
                assert not re.search(r"\b422\b|Unprocessable", proc.stdout + proc.stderr), proc.stdout + proc.stderr
        finally:
            try:  # serve's own children (the Prefect server runs in a session of its own)
                children = psutil.Process(serve.pid).children(recursive=True)
            except psutil.Error:
                children = []
            if serve.poll() is None:
                os.killpg(serve.pid, signal.SIGINT)
                try:
                    serve.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    os.killpg(serve.pid, signal.SIGKILL)
            for child in children:  # none outlives the test, even if serve had to be killed
                try:
                    child.kill()
                except psutil.Error:
                    pass
