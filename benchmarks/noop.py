"""`python -m benchmarks.noop`: what a cycle with nothing to do costs, as the operator runs it.

Two commands, each a fresh `kstance` process with no PREFECT_API_URL (so Prefect's temporary API starts and
stops inside it, as in a cron job): `kstance run` over two loopback feeds that answer 304 Not Modified (after a
first run that recorded their ETags), and `kstance backfill` of an empty archive. Wall time is the command's
own, start to exit; peak memory is the largest sum of resident memory over the process and all its children
(Prefect's temporary API runs as a child process), sampled every 20 ms. Target: <= 8 s and <= 400 MB on 2 cores.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil

from benchmarks.common import report

KSTANCE = str(Path(sys.executable).with_name("kstance"))
RSS = b"<?xml version='1.0'?><rss version='2.0'><channel><title>quiet</title><link>http://x/</link></channel></rss>"


class QuietFeeds:
    """Loopback feeds that give an empty channel with an ETag, then 304 to a conditional GET."""

    def __init__(self):
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                if self.headers.get("If-None-Match") == '"v1"':
                    self.send_response(304)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("ETag", '"v1"')
                self.send_header("Content-Length", str(len(RSS)))
                self.end_headers()
                self.wfile.write(RSS)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def measure(args: list[str], cwd: Path, env: dict) -> tuple[float, float, int]:
    """(wall seconds, peak MB of the process tree, exit code) of one command."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([KSTANCE, *args], cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    root = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        total = 0
        try:
            for p in [root, *root.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
        except psutil.Error:
            pass
        peak = max(peak, total)
        time.sleep(0.02)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace")
    if proc.returncode:
        print(err, file=sys.stderr)
    return wall, peak / 2**20, proc.returncode


def main(repeats: int = 3) -> None:
    feeds = QuietFeeds()
    rows, figures = [], {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp)
            (home / "feeds.toml").write_text(f'[[feeds]]\nname = "one"\nurl = "{feeds.base}/one.xml"\n'
                                             f'[[feeds]]\nname = "two"\nurl = "{feeds.base}/two.xml"\n')
            (home / "empty.jsonl").write_text("")
            env = {k: v for k, v in os.environ.items() if not k.startswith(("KSTANCE_", "PREFECT_"))}
            env.update({"KSTANCE_HOME": str(home / ".kstance"), "KSTANCE_FEEDS": str(home / "feeds.toml"),
                        "KSTANCE_ALLOW_PRIVATE_ADDRESSES": "true", "KSTANCE_POLITENESS_DELAY_S": "0"})
            wall, peak, rc = measure(["run"], home, env)  # records the ETags; also warms the disk cache
            assert rc == 0, "the first run failed"
            rows.append(("first run (200, empty channels)", f"{wall:.1f} s, {peak:.0f} MB"))
            for label, args in (("no-op cycle (2 feeds, 304)", ["run"]),
                                ("empty backfill", ["backfill", "empty.jsonl"])):
                walls, peaks = [], []
                for _ in range(repeats):
                    wall, peak, rc = measure(args, home, env)
                    assert rc == 0, f"{label} failed"
                    walls.append(wall)
                    peaks.append(peak)
                key = "noop_run" if args[0] == "run" else "empty_backfill"
                rows.append((label, f"median {statistics.median(walls):.1f} s (min {min(walls):.1f}, max "
                                    f"{max(walls):.1f}), peak {max(peaks):.0f} MB"))
                figures[f"{key}_s"] = statistics.median(walls)
                figures[f"{key}_peak_mb"] = max(peaks)
    finally:
        feeds.close()
    report("noop", rows, figures)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
