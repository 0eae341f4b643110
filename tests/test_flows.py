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
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["kstance-monitor", "kstance-report"])))
    kinds = {a.key: a for a in arts}
    assert "| JP |" in kinds["kstance-monitor"].data and "index.html" in kinds["kstance-report"].data
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
