"""How a shift was found (the detector's statistic and threshold at confirmation, the article rate the threshold was
set for, the method) is kept with its alert, read back with it, and shown to the reader: in the email, in Slack and
in `kstance alerts`. Alerts recorded before migration 0003 read back without it."""
import json
from datetime import date, timedelta

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from alerts.deliver import parse_channels
from alerts.outbox import deliver_due
from alerts.render import how_found, slack_body
from classifiers.confusion import load_profile
from classifiers.corpus import seeds_dir
from classifiers.shift_simulation import synthetic_series
from classifiers.shifts import DetectorConfig, detect
from flows.present import alert_record
from store import repository as repo
from tests.test_alerts import mail_url, smtp  # noqa: F401, F811 (fixture)

START = date(2020, 1, 1)


def found_shift():
    """A real shift from the detector: a flip in a seeded stream drawn from the shipped error profile. (The stream
    is drawn from the profile, so a refit may add an early false alarm to it: the flip is the last shift, after the
    change.)"""
    obs = synthetic_series(load_profile(seeds_dir() / "model"), rate_per_day=1.0, days=200,
                           regimes=[(0, "cooperative"), (100, "confrontational")], seed=3, start=START)
    shifts = detect("JP", obs, 0.7, DetectorConfig(), load_profile(seeds_dir() / "model"))
    sh = shifts[-1]
    assert (sh.from_stance, sh.to_stance) == ("cooperative", "confrontational")
    assert sh.detected_at >= START + timedelta(days=100)
    return sh


def test_the_detectors_figures_are_stored_read_back_and_shown_in_every_form(smtp, store):  # noqa: F811
    sh = found_shift()
    assert sh.method == "llr" and sh.statistic >= sh.threshold > 0 and sh.rate_per_day > 0
    channels = parse_channels([mail_url(smtp.port)])
    repo.record_shifts(store, [sh], historical=False, deliver=True, channels=[c.key for c in channels])

    [(row, dels)] = repo.alerts(store)
    back = repo.shift_from_row(row)
    assert (back.method, back.statistic, back.threshold, back.rate_per_day) == \
        (sh.method, sh.statistic, sh.threshold, sh.rate_per_day)
    rec = json.loads(json.dumps(alert_record(row, dels)))
    assert rec["detector"] == {"method": "llr", "statistic": sh.statistic, "threshold": sh.threshold,
                               "rate_per_day": sh.rate_per_day}

    from rich.console import Console

    from flows.present import print_alerts

    listing = Console(record=True, width=200)
    print_alerts(listing, store)  # `kstance alerts`, as text
    assert f"found by llr: statistic {sh.statistic:.2f}, threshold {sh.threshold:.2f}" in listing.export_text()

    line = how_found(back)
    assert f"statistic {sh.statistic:.2f} against a threshold of {sh.threshold:.2f}" in line
    assert "articles a day" in line
    assert deliver_due(store, channels).sent
    plain = " ".join(smtp.messages[0].get_body(("plain",)).get_content().split())
    html = " ".join(smtp.messages[0].get_body(("html",)).get_content().split())
    assert line in plain and line.replace("'", "&#x27;") in html
    assert line in slack_body(back)


def test_alerts_recorded_before_the_fields_existed_read_back_without_them(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(__import__("pathlib").Path(repo.__file__).parent / "migrations"))
    with engine.begin() as conn:  # a store as the previous release left it, with one alert
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002_i16")
        conn.execute(text(
            "INSERT INTO alerts (id, actor, from_stance, to_stance, from_score, to_score, magnitude, confidence, "
            "detected_at, first_date, last_date, articles, evidence, historical, created_at, muted) VALUES "
            "('old1', 'JP', 'cooperative', 'confrontational', 0.6, -0.7, 1.3, 0.8, '2024-01-05', '2024-01-02', "
            "'2024-01-05', '[\"https://n.example/1\"]', '[]', 0, '2024-01-05 07:00:00', 0)"))
    engine.dispose()

    store = repo.open_store(url)  # migrates to the newest revision
    try:
        [(row, dels)] = repo.alerts(store)
        old = repo.shift_from_row(row)
        assert old.method == "" and how_found(old) is None
        assert alert_record(row, dels)["detector"] is None
        # and a new one written after the migration keeps its figures
        sh = found_shift()
        repo.record_shifts(store, [sh], historical=True, deliver=False, channels=[])
        new = {r.id: r for r, _ in repo.alerts(store)}[sh.key]
        assert new.method == "llr" and new.threshold == sh.threshold
    finally:
        store.close()
