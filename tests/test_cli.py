"""The kstance command as a user meets it: real subprocesses, one-line errors, no tracebacks."""
import json

import pytest

from classifiers.corpus import seeds_dir
from tests.conftest import run_kstance


def run(args, cwd, env=None, timeout=300, temporary_api=False):
    return run_kstance(args, cwd, env, timeout, temporary_api=temporary_api)


def one_line_error(proc):
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("kstance: error: "), proc.stderr
    return lines[0]


def test_classify_jsonl_on_the_seed_articles_has_the_contract_shape(tmp_path):
    seeds = sorted((seeds_dir() / "articles").glob("*.txt"))
    proc = run(["classify", "--format", "jsonl", *map(str, seeds)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(ln) for ln in proc.stdout.splitlines()]
    assert rows and {r["input"] for r in rows} == {str(p) for p in seeds}
    for r in rows:
        assert list(r) == ["input", "actor", "stance", "score", "confidence", "evidence"]
    assert "Traceback" not in proc.stderr


def test_user_errors_are_one_line_and_non_zero(tmp_path):
    assert "no such file: nope.txt" in one_line_error(run(["classify", "nope.txt"], tmp_path))
    assert "No such option" in one_line_error(run(["classify", "--frobnicate", "x"], tmp_path))
    (tmp_path / "x.csv").write_text("a,b")
    assert "x.csv: not a supported archive" in one_line_error(run(["backfill", "x.csv"], tmp_path))
    assert "missing.jsonl: no such file" in one_line_error(run(["backfill", "missing.jsonl"], tmp_path))
    assert "--since must be a date" in one_line_error(run(["backfill", "x.csv", "--since", "yesterday"], tmp_path))
    (tmp_path / "kstance.toml").write_text("home = [unclosed")
    assert "kstance.toml: not valid TOML" in one_line_error(run(["alerts"], tmp_path))
    (tmp_path / "kstance.toml").write_text('unknown_setting = 1\n')
    assert "unknown_setting" in one_line_error(run(["alerts"], tmp_path))
    (tmp_path / "kstance.toml").unlink()
    err = one_line_error(run(["alerts"], tmp_path, env={"KSTANCE_DATABASE_URL": "postgresql+psycopg://u:pw123@127.0.0.1:9/x"}))
    assert "cannot open the store" in err and "pw123" not in err
    err = one_line_error(run(["run"], tmp_path, env={"KSTANCE_ALERT_URLS": "bogus://user:tok3n@x/y"}))
    assert "alert URL #1" in err and "tok3n" not in err


def test_alerts_on_an_empty_store(tmp_path):
    proc = run(["alerts", "--format", "jsonl"], tmp_path)
    assert proc.returncode == 0 and proc.stdout == ""


def test_a_second_writer_on_one_store_is_refused_with_a_clear_message(tmp_path):
    from flows.lock import StoreBusy, store_lock

    home = tmp_path / ".kstance"
    db = f"sqlite:///{(home / 'kstance.db').resolve()}"
    (tmp_path / "a.jsonl").write_text("")
    with store_lock(home, db, "run"):
        err = one_line_error(run(["backfill", "a.jsonl"], tmp_path))
        assert "the store is in use by kstance run (pid" in err
        with pytest.raises(StoreBusy):
            with store_lock(home, db, "backfill"):
                pass
