"""Shared fixtures: loopback servers, isolated settings, the calibrated model, Prefect's test harness."""
from __future__ import annotations

import contextlib
import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flows.loopback import LoopbackServer, respond  # noqa: F401 (tests import both from here)

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parent.parent

# Prefect and kstance state of the test session live in a throw-away folder, never in the user's.
_SESSION_HOME = Path(os.environ.get("PYTEST_KSTANCE_HOME", "/tmp")) / f"kstance-tests-{os.getpid()}"
os.environ["PREFECT_HOME"] = str(_SESSION_HOME / "prefect")
(_SESSION_HOME / "prefect").mkdir(parents=True, exist_ok=True)
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
for var in ("KSTANCE_ALERT_URLS", "KSTANCE_DATABASE_URL", "KSTANCE_MODEL", "KSTANCE_FEEDS", "KSTANCE_HOME",
            "KSTANCE_CONFIG", "PREFECT_API_URL"):
    os.environ.pop(var, None)


KSTANCE = str(Path(sys.executable).with_name("kstance"))


class SharedPrefectAPI:
    """One real `prefect server start` on 127.0.0.1 for the kstance processes the tests start, begun at the first
    such process and stopped when the session ends. Without it each `kstance run` / `backfill` starts Prefect's
    temporary API of its own (measured 46 s against 13 s per run on the loaded 2-core machine). If the server
    cannot start, the runs fall back to the temporary API: slower, same results."""

    def __init__(self, home: Path):
        self.home = home
        self.url: str | None = None
        self._stack = contextlib.ExitStack()
        self._failed = False

    def env(self) -> dict[str, str]:
        if self.url is None and not self._failed:
            from flows.server import ServerError, local_prefect_server

            try:
                self.url = self._stack.enter_context(local_prefect_server(self.home, timeout=240, preferred_port=0))
            except ServerError:
                self._failed = True
        return {"PREFECT_API_URL": self.url} if self.url else {}

    def stop(self) -> None:
        self._stack.close()
        self.url = None


SHARED_PREFECT = SharedPrefectAPI(_SESSION_HOME / "shared-prefect")


def cli_env(cwd, env: dict | None = None, *, temporary_api: bool = False) -> dict[str, str]:
    """The environment of a kstance process a test starts: none of the caller's KSTANCE_* or PREFECT_* settings,
    its home under `cwd`, the session's Prefect API (or, with temporary_api, Prefect's own temporary one, as a
    newcomer's first run gets), then the test's own variables."""
    e = {k: v for k, v in os.environ.items() if not k.startswith(("KSTANCE_", "PREFECT_"))}
    e["KSTANCE_HOME"] = str(Path(cwd) / ".kstance")
    if not temporary_api:
        e.update(SHARED_PREFECT.env())
    e.update(env or {})
    return e


def run_kstance(args, cwd, env: dict | None = None, timeout: float = 300, *, text: bool = True,
                temporary_api: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run([KSTANCE, *args], cwd=cwd, env=cli_env(cwd, env, temporary_api=temporary_api),
                          capture_output=True, text=text, timeout=timeout)


def pytest_sessionfinish(session, exitstatus):
    """The shared Prefect server stops and the session's throw-away folder goes (it held Prefect's state)."""
    SHARED_PREFECT.stop()
    shutil.rmtree(_SESSION_HOME, ignore_errors=True)


def fixture_page(name: str) -> tuple[bytes, dict]:
    html = gzip.decompress((FIXTURES / "pages" / f"{name}.html.gz").read_bytes())
    meta = json.loads((FIXTURES / "pages" / f"{name}.meta.json").read_text(encoding="utf-8"))
    return html, meta


@pytest.fixture
def server():
    s = LoopbackServer()
    yield s
    s.close()


@pytest.fixture
def kstance_env(tmp_path, monkeypatch):
    """Isolated KSTANCE_* settings for one test: its own home and SQLite store, loopback fetching allowed."""
    home = tmp_path / "home"
    monkeypatch.setenv("KSTANCE_HOME", str(home))
    monkeypatch.setenv("KSTANCE_ALLOW_PRIVATE_ADDRESSES", "true")
    monkeypatch.setenv("KSTANCE_POLITENESS_DELAY_S", "0")
    monkeypatch.setenv("KSTANCE_REQUEST_TIMEOUT_S", "5")
    monkeypatch.chdir(tmp_path)
    return home


@pytest.fixture(scope="session")
def model():
    from classifiers.stance import StanceModel

    return StanceModel.load(ROOT / "seeds" / "model")


@pytest.fixture(scope="session")
def prefect_api():
    """A Prefect API for the tests that run flows in this process: the session's shared server, which the kstance
    processes the tests start use too (one server start per test process instead of two: about 15 s of CPU each);
    Prefect's own test harness when that server cannot start."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    env = SHARED_PREFECT.env()
    if env:
        with temporary_settings({PREFECT_API_URL: env["PREFECT_API_URL"]}):
            yield
        return
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def _worker_postgres_url(url: str | None) -> str | None:
    """The PostgreSQL database of this test process. With pytest-xdist (`make test` runs two workers) each worker
    gets a database of its own beside the one .ci/postgres.sh made (`kstance_test_gw0`, ...), created on first use
    by the test role (CREATEDB), so one worker's reset never drops the tables another is writing."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_{worker}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # say what to do rather than fail every PostgreSQL test one by one
        raise RuntimeError(f"KSTANCE_TEST_POSTGRES_URL: cannot make this test worker's database {name} "
                           f"({type(exc).__name__}); the role needs CREATEDB (.ci/postgres.sh grants it), or run the "
                           "suite in one process: make test TEST_WORKERS=0") from None
    finally:
        engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


POSTGRES_URL = _worker_postgres_url(os.environ.get("KSTANCE_TEST_POSTGRES_URL"))
POSTGRES_DB = POSTGRES_URL.rsplit("/", 1)[1] if POSTGRES_URL else None


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """The store's URL, once on SQLite and once on the real PostgreSQL server that .ci/run starts
    (KSTANCE_TEST_POSTGRES_URL); without that server the PostgreSQL half is skipped and says why."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'k.db'}"
    if not POSTGRES_URL:
        pytest.skip("no PostgreSQL server: set KSTANCE_TEST_POSTGRES_URL (.ci/run starts one with .ci/postgres.sh)")
    _reset_postgres(POSTGRES_URL)
    return POSTGRES_URL


@pytest.fixture
def store(db_url):
    from store import repository as repo

    s = repo.open_store(db_url)
    yield s
    s.close()
