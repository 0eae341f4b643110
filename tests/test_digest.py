"""KSTANCE_DIGEST=daily: one message a day through each channel, with the day's judgments per target and any
shift, received by a real SMTP server on 127.0.0.1."""
from datetime import date, timedelta

from alerts.deliver import parse_channels
from classifiers.stance import Judgment
from extractors.article import Article
from flows.settings import load_settings
from pipeline.alerting import record_and_deliver
from store import repository as repo
from tests.test_alerts import mail_url, make_shift, smtp  # noqa: F401 (fixture)


def test_daily_digest_is_one_message_a_day_with_judgments_per_target_and_the_shift(smtp, kstance_env, monkeypatch):  # noqa: F811
    monkeypatch.setenv("KSTANCE_DIGEST", "daily")
    settings = load_settings()
    store = settings.open_store()
    today = date.today()
    with store.session() as s:
        for slug, actor, stance, score in (("a", "JP", "confrontational", -0.7), ("b", "JP", "neutral", 0.1),
                                           ("c", "KP", "cooperative", 0.6)):
            served = f"http://www.news.example/{slug}"
            repo.save_article(s, Article(f"https://news.example/{slug}", f"Headline {slug}", "text", today, "Herald",
                                         "en", original_url=served, served_url=served), origin="t")
            repo.save_judgments(
                s, f"https://news.example/{slug}", [Judgment(actor, stance, score, 0.9, ("q",), 1)], "t"
            )
    channels = parse_channels([mail_url(smtp.port)])
    policy = settings.delivery_policy()
    new, report = record_and_deliver(store, policy, channels, [make_shift(actor="JP")], backfill=False, today=today)
    assert len(new) == 1 and len(report.sent) == 1 and not report.failed
    [msg] = smtp.messages
    assert msg["Subject"] == f"kstance digest {today}: shift: Japan cooperative -> confrontational"
    body = msg.get_body(("plain",)).get_content()
    assert "Japan: 2 articles (1 neutral, 1 confrontational); mean score -0.30" in body
    assert "North Korea: 1 article (1 cooperative)" in body and "http://www.news.example/c" in body
    assert "Shifts:" in body and "from cooperative (+0.62) to confrontational (-0.71)" in body
    [(alert, [delivery])] = repo.alerts(store)
    assert delivery.state == "digest"  # not sent on its own

    # the same day again, with a new shift: no second message
    _, report = record_and_deliver(store, policy, channels, [make_shift(actor="CN", title="China")], backfill=False,
                                   today=today)
    assert report.sent == [] and len(smtp.messages) == 1
    # the next day: the next digest
    _, report = record_and_deliver(store, policy, channels, [], backfill=False, today=today + timedelta(days=1))
    assert len(report.sent) == 1 and len(smtp.messages) == 2
