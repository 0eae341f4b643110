"""Backfills: the same store whether one process or a Dask cluster judged it, and whether or not it was killed."""
import json
import os
import random
import signal
import sqlite3
import subprocess
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from classifiers.corpus import dev_examples
from store import repository as repo
from store.models import AlertRow, ArticleRow, DeliveryRow, JudgmentRow
from tests.conftest import KSTANCE, cli_env

pytestmark = pytest.mark.flow


# Words for sentences that name no followed actor: the classifier never reads them (no candidate pair), so they
# give an archive its size on disk at the cost of splitting only. Drawn at random, no two articles share phrasing,
# and the near-duplicate check keeps every article.
_FILLER = ("harbour rainfall library committee school bridge festival orchard railway museum clinic ferry market "
           "river council garden tunnel stadium bakery timetable allotment reservoir pavement lantern village "
           "quarry meadow cinema hospital tramline warehouse kitchen bicycle archive printer theatre swimming pool "
           "cathedral canal lighthouse vineyard workshop playground granary mill chapel dairy kiln").split()
_FILLER_VERBS = "reviewed opened delayed expanded inspected repaired measured painted closed moved".split()


def filler_sentence(rng: random.Random) -> str:
    words = rng.sample(_FILLER, 6)
    return (f"The {words[0]} {rng.choice(_FILLER_VERBS)} {words[1]} {words[2]} schedules while the {words[3]} "
            f"{words[4]} and {words[5]} waited {rng.randint(2, 97)} days.")


def write_archive(path: Path, n_articles: int, per_article: int = 6, judged: int = 2) -> Path:
    """Article-like records (in publication order), plus a broken line: `judged` dev sentences each (they name
    actors: the classifier reads them), the rest of the `per_article` sentences filler that names none."""
    sents = [e.text for e in dev_examples()]
    rng = random.Random(n_articles)
    with open(path, "w") as fh:
        for i in range(n_articles):
            body = [sents[(i * judged + k) % len(sents)] for k in range(min(judged, per_article))]
            body += [filler_sentence(rng) for _ in range(per_article - len(body))]
            fh.write(json.dumps({"url": f"https://archive.example/{i:05d}", "title": f"Story {i}",
                                 "published": (date(2024, 1, 1) + timedelta(days=i // 3)).isoformat(),
                                 "text": " ".join(body), "source": f"Outlet {i % 3}"}) + "\n")
            if i == 5:
                fh.write('{"url": "https://archive.example/broken", \n')
    return path


def dump(db_url: str) -> dict:
    """Every table's content that a rerun must reproduce (timestamps of first sight excluded)."""
    store = repo.open_store(db_url)
    with store.session() as s:
        out = {
            "articles": sorted(
                (a.url, a.status, a.reason, a.duplicate_of, a.content_hash) for a in s.scalars(select(ArticleRow))
            ),
            "judgments": sorted(
                (j.article_url, j.actor, j.stance, round(j.score, 5), round(j.confidence, 5))
                for j in s.scalars(select(JudgmentRow))
            ),
            "alerts": sorted(
                (a.id, a.actor, a.from_stance, a.to_stance, str(a.detected_at)) for a in s.scalars(select(AlertRow))
            ),
            "deliveries": sorted((d.alert_id, d.channel, d.state) for d in s.scalars(select(DeliveryRow))),
        }
    store.close()
    return out


def test_dask_local_cluster_gives_the_same_store_as_one_process(prefect_api, kstance_env, tmp_path, monkeypatch):
    from flows.backfill import run_backfill

    archive = write_archive(tmp_path / "a.jsonl", 40)
    monkeypatch.setenv("KSTANCE_DATABASE_URL", f"sqlite:///{tmp_path / 'single.db'}")
    single = run_backfill([str(archive)])
    monkeypatch.setenv("KSTANCE_DATABASE_URL", f"sqlite:///{tmp_path / 'dask.db'}")
    # as on the command line, a progress listener holding a lock is live while the flow ships tasks to Dask
    import threading

    from flows import progress

    lock, seen = threading.Lock(), []
    progress.listen(lambda n, p: (lock.acquire(), seen.append(n), lock.release()))
    try:
        on_dask = run_backfill([str(archive)], workers=2)
    finally:
        progress.clear()
    assert seen and seen[-1] == on_dask["read"]
    # (two of each article's six sentences name actors; some of them state no stance, so not every article is judged)
    assert single["judged"] == on_dask["judged"] > 15 and single["problem_count"] == 1
    # the same store, but a worker's forward pass runs on one thread where the flow's ran on two: the sums are
    # blocked otherwise, so a probability may differ in its seventh digit (0.779405 rounds either way)
    single_store, dask_store = dump(f"sqlite:///{tmp_path / 'single.db'}"), dump(f"sqlite:///{tmp_path / 'dask.db'}")
    assert {k: v for k, v in single_store.items() if k != "judgments"} == \
        {k: v for k, v in dask_store.items() if k != "judgments"}
    assert [j[:3] for j in single_store["judgments"]] == [j[:3] for j in dask_store["judgments"]]
    for a, b in zip(single_store["judgments"], dask_store["judgments"]):
        assert abs(a[3] - b[3]) <= 1e-4 and abs(a[4] - b[4]) <= 1e-4, (a, b)


def _backfill_cmd(archive, db, home):
    env = cli_env(home, {"KSTANCE_HOME": str(home), "KSTANCE_DATABASE_URL": db})  # the session's Prefect API
    return [KSTANCE, "backfill", str(archive)], env


def test_a_killed_backfill_rerun_reaches_the_uninterrupted_store(tmp_path):
    archive = write_archive(tmp_path / "a.jsonl", 150)  # three of the backfill's 64-article batches
    whole, killed = f"sqlite:///{tmp_path / 'whole.db'}", f"sqlite:///{tmp_path / 'killed.db'}"
    cmd, env = _backfill_cmd(archive, killed, tmp_path / "h1")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 240
    judged = 0
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        try:  # a plain read-only look (opening it as a store would migrate a file the backfill is creating)
            con = sqlite3.connect(f"file:{tmp_path / 'killed.db'}?mode=ro", uri=True, timeout=1)
            try:
                judged = con.execute("SELECT count(*) FROM judgments").fetchone()[0]
            finally:
                con.close()
        except sqlite3.Error:
            continue
        if judged:
            break
    assert proc.poll() is None, "the backfill finished before it could be killed: make the archive larger"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = dump(killed)
    assert 0 < len(partial["articles"]) < 150
    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    cmd2, env2 = _backfill_cmd(archive, whole, tmp_path / "h2")
    assert subprocess.run(cmd2, env=env2, capture_output=True, text=True, timeout=600).returncode == 0
    assert dump(killed) == dump(whole)
