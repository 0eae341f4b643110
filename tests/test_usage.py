"""What an operator meets in the first hour, as real subprocesses: every usage mistake and every bad setting or
input ends in one `kstance: error:` line and exit 2, before any work (no server started, no store written)."""
import time

import pytest

from tests.conftest import run_kstance


def run(args, cwd, env=None, timeout=120):
    return run_kstance(args, cwd, env, timeout)


def usage_error(proc) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("kstance: error: "), proc.stderr
    return lines[0]


# -- the command line itself ----------------------------------------------------------------------

@pytest.mark.parametrize("args, says", [
    (["rnu"], "No such command 'rnu'"),
    (["run", "--bogus"], "No such option: --bogus"),
    (["--bogus"], "No such option: --bogus"),
    (["classify"], "Missing argument 'paths'"),
    (["backfill"], "Missing argument 'sources'"),
    (["backfill", "--workers", "abc", "a.jsonl"], "Invalid value for '--workers': Input should be a valid integer"),
    (["report", "--out"], "Option '--out' requires an argument"),
    (["alerts", "--format", "xml"], "--format must be text or jsonl, not 'xml'"),
    (["feeds", "--format", "csv"], "--format must be text or jsonl, not 'csv'"),
], ids=["typo-command", "unknown-option", "unknown-root-option", "classify-no-path", "backfill-no-source",
        "workers-not-a-number", "option-without-value", "alerts-bad-format", "feeds-bad-format"])
def test_usage_mistakes_are_one_line_and_exit_2(tmp_path, args, says):
    line = usage_error(run(args, tmp_path))
    assert says in line, line
    assert not (tmp_path / ".kstance" / "kstance.db").exists()  # refused before any work


def test_usage_error_names_the_help_to_read(tmp_path):
    assert "(see `kstance run --help`)" in usage_error(run(["run", "--bogus"], tmp_path))


def test_version(tmp_path):
    proc = run(["--version"], tmp_path)
    assert proc.returncode == 0 and proc.stdout.startswith("kstance 0."), proc
    assert proc.stderr == ""


def test_kstance_alone_prints_the_help_and_exits_0(tmp_path):
    proc = run([], tmp_path)
    assert proc.returncode == 0, proc.stderr
    for command in ("run", "serve", "backfill", "classify", "feeds", "alerts", "report", "demo", "--version"):
        assert command in proc.stdout
    assert proc.stderr == ""


# -- inputs and settings, checked before any work -------------------------------------------------

@pytest.mark.parametrize("args, says", [
    (["run", "--today", "tomorrow"], "--today must be a date like 2024-06-30, not 'tomorrow'"),
    (["backfill", "a.jsonl", "--since", "2024-13-01"], "--since must be a date like 2024-06-30, not '2024-13-01'"),
    (["backfill", "a.jsonl", "--until", "June"], "--until must be a date"),
    (["backfill", "a.jsonl", "--since", "2024-02-01", "--until", "2024-01-01"],
     "--since 2024-02-01 is after --until 2024-01-01"),
    (["backfill", "a.jsonl", "--workers", "-1"], "--workers must be 0"),
    (["backfill", "a.jsonl", "--dask", "localhost:8786"], "--dask must be a scheduler address"),
    (["report", "--out", "afile"], "--out afile: exists and is not a folder"),
    (["report", "--out", "afile/sub"], "afile is not a folder"),
    (["calibrate", "--out", "afile"], "--out afile: exists and is not a folder"),
], ids=["today-not-a-date", "since-bad-month", "until-not-a-date", "since-after-until", "negative-workers",
        "dask-not-an-address", "report-out-is-a-file", "report-out-under-a-file", "calibrate-out-is-a-file"])
def test_bad_inputs_are_refused_before_any_work(tmp_path, args, says):
    (tmp_path / "a.jsonl").write_text("")
    (tmp_path / "afile").write_text("x")
    line = usage_error(run(args, tmp_path))
    assert says in line, line
    assert not (tmp_path / ".kstance" / "kstance.db").exists()


def test_a_home_that_is_a_file_is_a_setting_error(tmp_path):
    (tmp_path / "home").write_text("x")
    line = usage_error(run(["alerts"], tmp_path, env={"KSTANCE_HOME": str(tmp_path / "home")}))
    assert "setting 'home': cannot use" in line


@pytest.mark.parametrize("env, says", [
    ({"KSTANCE_SCHEDULE_TIMEZONE": "Mars/Olympus_Mons"}, "unknown time zone 'Mars/Olympus_Mons'"),
    ({"KSTANCE_SCHEDULE_CRON": "61 * * * *"}, "'61 * * * *' is not a valid cron string"),
    ({"KSTANCE_SCHEDULE_CRON": "every day"}, "'every day' is not a valid cron string"),
], ids=["bad-time-zone", "cron-minute-out-of-range", "cron-in-words"])
def test_serve_refuses_a_bad_schedule_before_starting_a_server(tmp_path, env, says):
    t0 = time.monotonic()
    line = usage_error(run(["serve"], tmp_path, env=env))
    assert says in line, line
    assert not (tmp_path / ".kstance" / "prefect-server.log").exists()
    assert time.monotonic() - t0 < 60  # not after a server's start-up


FEEDS_OK = '[[feeds]]\nname = "a"\nurl = "https://example.org/a.xml"\n'


@pytest.mark.parametrize("feeds, says", [
    ('[[feeds]]\nname = "f"\nurl = "ftp://example.org/feed.xml"\n', "url must be http:// or https:// with a host"),
    ('[[feeds]]\nname = "f"\nurl = "example.org/feed.xml"\n', "url must be http:// or https:// with a host"),
    (FEEDS_OK + '[[feeds]]\nname = "b"\nurl = "https://EXAMPLE.org/a.xml"\n', "is listed twice (also feed #1)"),
    (FEEDS_OK + '[[feeds]]\nname = "a"\nurl = "https://example.org/b.xml"\n', "name 'a' is used twice (also feed #1)"),
    ('[[feeds]]\nname = " "\nurl = "https://example.org/a.xml"\n', "name must be a non-empty string"),
    ('[[feeds]]\nname = "f"\n', "each with a url"),
], ids=["ftp-scheme", "no-scheme", "duplicate-url", "duplicate-name", "empty-name", "no-url"])
def test_a_bad_feed_list_is_refused_before_any_work(tmp_path, feeds, says):
    (tmp_path / "feeds.toml").write_text(feeds)
    line = usage_error(run(["run"], tmp_path, env={"KSTANCE_FEEDS": str(tmp_path / "feeds.toml")}))
    assert says in line and ("feeds.toml: feed #" in line or "each with a url" in says), line
    assert not (tmp_path / ".kstance" / "kstance.db").exists()


@pytest.mark.parametrize("command", ["serve", "feeds"])
def test_serve_and_feeds_check_the_feed_list_too(tmp_path, command):
    (tmp_path / "feeds.toml").write_text(FEEDS_OK + FEEDS_OK)
    line = usage_error(run([command], tmp_path, env={"KSTANCE_FEEDS": str(tmp_path / "feeds.toml")}))
    assert "feeds.toml: feed #2: url 'https://example.org/a.xml' is listed twice" in line, line
    assert not (tmp_path / ".kstance" / "prefect-server.log").exists()
