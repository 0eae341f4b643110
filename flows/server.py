"""A local Prefect server for `kstance serve` when no PREFECT_API_URL is set: Prefect's temporary API does
not run schedules, a real server (SQLite under PREFECT_HOME, on 127.0.0.1) does."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from vocab.errors import RunError


class ServerError(RunError, RuntimeError):
    retryable = True


def _free_port(preferred: int = 4200) -> int:
    """The preferred port if it is free, else any free one (0: any free one)."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", preferred))
        except OSError:
            s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def local_prefect_server(home: Path, timeout: float = 300.0, preferred_port: int = 4200):
    """Start `prefect server start` on 127.0.0.1, wait until it answers, yield its API URL, stop it after. Prefect's
    usual port when it is free (its UI where users look for it); `preferred_port=0` for any free port (the test
    session's shared server, so that it never races a `kstance serve` started beside it for 4200)."""
    port = _free_port(preferred_port)
    url = f"http://127.0.0.1:{port}/api"
    log_path = home / "prefect-server.log"
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
    env.pop("PREFECT_API_URL", None)
    prefect = str(Path(sys.executable).with_name("prefect"))
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                                stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise ServerError(f"the local Prefect server exited at start (see {log_path})")
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise ServerError(f"the local Prefect server did not answer within {timeout:.0f} s (see {log_path})")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
