"""The HTML report as a reader sees it, rendered by a real headless Chromium."""
import re
import shutil
import subprocess
from datetime import date, timedelta

import pytest

from classifiers.shifts import DetectorConfig, detect
from classifiers.stance import Judgment
from extractors.article import Article
from reports.html import write_report
from store import repository as repo

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
REFERENCE = {"US": {"stance": "cooperative", "score": 0.88}, "JP": {"stance": "cooperative", "score": 0.38},
             "CN": {"stance": "neutral", "score": 0.1}, "KP": {"stance": "neutral", "score": 0.0},
             "RU": {"stance": "neutral", "score": 0.0}}


def fill(store):
    """Thirty days of judged articles toward Japan that turn confrontational, and a few toward the others."""
    start = date(2026, 6, 1)
    with store.session() as s:
        for i in range(30):
            day = start + timedelta(days=i)
            url = f"https://news.example/{i}"
            repo.save_article(s, Article(url, f"<b>Story</b> {i}", "text", day, "Wire" if i % 2 else "Herald", "en"), origin="t")
            score = 0.8 if i < 20 else -0.8
            stance = "cooperative" if score > 0 else "confrontational"
            js = [Judgment("JP", stance, score, 0.9, (f"Seoul said <script>x</script> sentence {i}.",), 1)]
            if i % 5 == 0:
                js.append(Judgment("US", "cooperative", 0.7, 0.8, (f"Alliance sentence {i}.",), 1))
            repo.save_judgments(s, url, js, "test")
    shifts = detect("JP", repo.series(store, "JP"), 0.38, DetectorConfig())
    repo.record_shifts(store, shifts, historical=False, deliver=True, channels=["mailto:abcd1234"])
    return shifts


def render(path, tmp_path):
    if not CHROMIUM:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it): cannot render the report")
    profile = tmp_path / "profile"
    dom = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", path.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--window-size=1100,2400",
                    f"--screenshot={shot}", path.as_uri()], capture_output=True, timeout=120)
    return dom, shot


def test_report_shows_every_actor_the_alert_and_pictures(tmp_path):
    store = repo.open_store(f"sqlite:///{tmp_path / 'k.db'}")
    shifts = fill(store)
    assert shifts, "the fixture must contain a shift"
    page = write_report(store, tmp_path / "report", REFERENCE)
    dom, shot = render(page, tmp_path)
    for actor in ("US", "CN", "JP", "KP", "RU"):
        assert f'id="actor-{actor}"' in dom
    imgs = re.findall(r'<img[^>]+src="data:image/png;base64,([^"]+)"', dom)
    assert len(imgs) == 5 and all(len(i) > 5000 for i in imgs)
    assert "Japan: cooperative → confrontational" in dom
    assert "<summary>latest 8 of 30 articles</summary>" in dom and "&lt;b&gt;Story&lt;/b&gt; 29" in dom
    assert "<script>x</script>" not in dom and "&lt;script&gt;" in dom  # headline and evidence escaped
    import matplotlib.image as mpimg

    pixels = mpimg.imread(shot)
    assert pixels.shape[0] > 1000 and pixels.std() > 0.05  # not a blank page


def test_empty_store_says_there_is_nothing_yet(tmp_path):
    store = repo.open_store(f"sqlite:///{tmp_path / 'k.db'}")
    page = write_report(store, tmp_path / "report", REFERENCE)
    dom, _ = render(page, tmp_path)
    assert "Nothing judged yet" in dom and 'id="actor-RU"' in dom


def test_weekly_means_are_not_joined_across_long_gaps():
    from reports.html import _runs

    weeks = [(date(2026, 1, 5), 0, 0, 0), (date(2026, 1, 12), 0, 0, 0), (date(2026, 5, 4), 0, 0, 0)]
    assert [len(r) for r in _runs(weeks)] == [2, 1]
