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
            repo.save_article(
                s, Article(url, f"<b>Story</b> {i}", "text", day, "Wire" if i % 2 else "Herald", "en"), origin="t"
            )
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
    charts = re.findall(r'<div class="chart"><svg', dom)
    assert len(charts) == 5  # inline SVG: crisp at any zoom, and its parts can be checked here
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
    assert "0 judged articles" in dom and "No run recorded yet" in dom


MEASURE = """<script>
const box = e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
const out = {scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth,
             charts: {}, shifts: []};
for (const sec of document.querySelectorAll('section.actor')) {
  const actor = sec.id.slice(6), svg = sec.querySelector('svg');
  const ticks = [...svg.querySelectorAll(`g[id^="${actor}-xtick_"] text`)]
    .map(t => [t.textContent, Math.round(box(t)[0])]);
  const ref = svg.querySelector(`[id="k-reference-${actor}"]`), empty = svg.querySelector(`[id="k-empty-${actor}"]`);
  out.charts[actor] = {svg: box(svg), axes: box(svg.querySelector(`g[id="${actor}-patch_2"]`)), ticks,
                       reference: ref && box(ref), empty: empty && box(empty)};
}
for (const m of document.querySelectorAll('[id^="k-shift-"]')) out.shifts.push([m.id, box(m)]);
document.body.setAttribute('data-measure', JSON.stringify(out));
</script>"""


def measure(page, tmp_path, width=1280):
    """The page laid out by Chromium at `width` px: chart boxes, x-tick labels and positions, shift markers."""
    import html
    import json

    probe = page.with_name("probe.html")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    if not CHROMIUM:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it): cannot render the report")
    dom = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile2'}", f"--window-size={width},1000",
                          "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120).stdout
    return json.loads(html.unescape(re.search(r'data-measure="([^"]*)"', dom)[1]))


def test_timelines_share_one_time_axis_mark_each_shift_and_fit_1280_px(tmp_path):
    store = repo.open_store(f"sqlite:///{tmp_path / 'k.db'}")
    shifts = fill(store)
    with store.session() as s:  # one lonely Russia article a year earlier: its chart must not get its own range
        repo.save_article(
            s, Article("https://news.example/ru", "Russia", "text", date(2025, 6, 1), "Wire", "en"), origin="t"
        )
        repo.save_judgments(
            s, "https://news.example/ru", [Judgment("RU", "neutral", 0.0, 0.7, ("Seoul said.",), 1)], "t"
        )
    m = measure(write_report(store, tmp_path / "report", REFERENCE), tmp_path)
    assert m["scrollWidth"] <= m["clientWidth"], "the page scrolls sideways at 1280 px"
    charts = m["charts"]
    assert set(charts) == {"US", "CN", "JP", "KP", "RU"}
    ticks = {a: c["ticks"] for a, c in charts.items()}
    assert len(ticks["JP"]) >= 3 and all(t == ticks["JP"] for t in ticks.values()), ticks  # same labels, same places
    widths = {round(c["svg"][2] - c["svg"][0]) for c in charts.values()}
    axes = {(round(c["axes"][0]), round(c["axes"][2])) for c in charts.values()}
    assert len(widths) == 1 and len(axes) == 1, (widths, axes)  # equal-width charts, plot areas aligned
    marked = {i for i, _ in m["shifts"]}
    assert marked == {f"k-shift-JP-{sh.detected_at.isoformat()}" for sh in shifts}
    left, _, right, _ = charts["JP"]["axes"]
    assert all(left <= (b[0] + b[2]) / 2 <= right for _, b in m["shifts"])
    for actor in ("CN", "KP"):  # "no judged articles yet" is not crossed by the reference line
        e, r = charts[actor]["empty"], charts[actor]["reference"]
        assert e and r and (e[3] <= r[1] or e[1] >= r[3]), (actor, e, r)


def test_windows_end_on_the_report_date_and_times_have_a_zone(tmp_path):
    from datetime import datetime, timezone

    store = repo.open_store(f"sqlite:///{tmp_path / 'k.db'}")
    fill(store)  # Japan: one article a day, 2026-06-01 to 06-30
    run_id = repo.start_run(store, "monitor")
    repo.finish_run(store, run_id, {"kind": "monitor", "feeds": [{"status": "ok"}, {"status": "error"}], "judged": 1,
                                    "judgments": 1, "duplicates": 0, "shifts": 0, "new_alerts": [], "delivered": 0,
                                    "delivery_failures": []})
    repo.start_run(store, "backfill")  # never finished
    page = write_report(store, tmp_path / "r1", REFERENCE, now=datetime(2026, 6, 15, 9, 30, 12, 345678, timezone.utc))
    text = page.read_text()
    jp = re.search(r'<tr id="summary-JP">(.*?)</tr>', text, re.S)[1]
    assert re.search(r"<td>15</td>", jp)  # 2026-05-17 .. 06-15: fifteen of Japan's articles
    assert "Report written 2026-06-15 09:30 UTC" in text and not re.search(r"\d\d:\d\d:\d\d\.\d", text)
    assert "ok (1 of 2 feeds failed)" in text and "judged 1 (1 judgment)" in text and "did not finish" in text
    later = write_report(store, tmp_path / "r2", REFERENCE, now=datetime(2026, 7, 10, tzinfo=timezone.utc)).read_text()
    jp = re.search(r'<tr id="summary-JP">(.*?)</tr>', later, re.S)[1]
    assert "<td>20</td>" in jp and 'class="stance confrontational"' in jp
    assert "cooperative &rarr; confrontational</span> on 2026-06-2" in jp  # the last shift and its date
    us = re.search(r'<section class="actor" id="actor-US">(.*?)</section>', later, re.S)[1]
    assert "6 judged articles" in us


def test_one_article_is_one_judged_article(tmp_path):
    store = repo.open_store(f"sqlite:///{tmp_path / 'k.db'}")
    with store.session() as s:
        repo.save_article(
            s, Article("https://news.example/1", "One", "text", date(2026, 6, 1), "Wire", "en"), origin="t"
        )
        repo.save_judgments(
            s, "https://news.example/1", [Judgment("KP", "neutral", 0.0, 0.7, ("Seoul said.",), 1)], "t"
        )
    text = write_report(store, tmp_path / "r", REFERENCE).read_text()
    assert "1 judged article." in text and "1 judged articles" not in text


def test_weekly_means_sit_mid_week_and_break_across_an_empty_week():
    from datetime import datetime

    from classifiers.shifts import Observation
    from reports.timeline import weekly_means

    obs = [Observation("a", date(2026, 1, 5), 0.5, 0.9, "cooperative"),  # Monday of week 2
           Observation("b", date(2026, 1, 13), 0.1, 0.9, "neutral"),  # week 3
           Observation("c", date(2026, 1, 30), -0.5, 0.9, "confrontational")]  # week 5: week 4 had none
    runs = weekly_means(obs)
    assert [[p[0] for p in r] for r in runs] == [[datetime(2026, 1, 8, 12), datetime(2026, 1, 15, 12)],
                                               [datetime(2026, 1, 29, 12)]]


def test_weekly_means_are_not_joined_across_long_gaps():
    from reports.timeline import weekly_runs as _runs

    weeks = [(date(2026, 1, 5), 0, 0, 0), (date(2026, 1, 12), 0, 0, 0), (date(2026, 5, 4), 0, 0, 0)]
    assert [len(r) for r in _runs(weeks)] == [2, 1]
