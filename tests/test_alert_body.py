"""What the desk reads: the alert as a real SMTP server and a Slack-format webhook receive it, and the
per-channel state `kstance alerts` shows."""
import json
from datetime import date, timedelta

from alerts.deliver import parse_channels
from classifiers.shifts import Evidence, Shift
from classifiers.stance import Judgment
from extractors.article import Article
from flows.settings import load_settings
from pipeline.alerting import record_and_deliver
from store import repository as repo
from tests.test_alerts import SECRET, SLACK_URL, free_port, mail_url, slack, smtp  # noqa: F401 (fixtures)
from tests.test_cli import run

REPORT = "https://desk.example/kstance/report/"
QUOTE_1 = "The foreign ministry summoned a senior Japanese diplomat and demanded Tokyo withdraw the claim."
QUOTE_2 = "President Lee said Seoul would not accept any distortion of history."
HEADLINE_1 = "Seoul summons Japanese envoy over Dokdo claim"
HEADLINE_2 = "Foreign ministry demands apology"
HEADLINE_3 = "Lee rejects Tokyo's textbook revision"


def stored_alert_world(store):
    """Three judged articles on an http-only site; the third's only evidence is its own headline."""
    day = date.today()
    arts = [
        ("a1", HEADLINE_1, QUOTE_1, "Herald"),
        ("a2", HEADLINE_2, QUOTE_2, "Wire"),
        ("a3", HEADLINE_3, HEADLINE_3 + ".", "Times"),
    ]
    evidence, keys = [], []
    with store.session() as s:
        for k, (slug, title, quote, outlet) in enumerate(arts):
            served = f"http://www.news.example/{slug}"
            key = f"https://news.example/{slug}"
            repo.save_article(s, Article(key, title, quote * 5, day - timedelta(days=2 - k), outlet, "en",
                                         original_url=served, served_url=served), origin="t")
            repo.save_judgments(s, key, [Judgment("JP", "confrontational", -0.7, 0.9, (quote,), 1)], "t")
            evidence.append(Evidence(quote, title, key, day - timedelta(days=2 - k)))
            keys.append(key)
    return Shift("JP", "cooperative", "confrontational", 0.6, -0.7, 1.3, 0.9, day, day - timedelta(days=2), day,
                 tuple(keys), tuple(evidence))


def test_email_plain_text_puts_each_quote_on_its_line_then_outlet_date_and_link(smtp, kstance_env, monkeypatch):  # noqa: F811
    monkeypatch.setenv("KSTANCE_REPORT_URL", REPORT)
    settings = load_settings()
    store = settings.open_store()
    sh = stored_alert_world(store)
    channels = parse_channels([mail_url(smtp.port)])
    _, report = record_and_deliver(store, settings.delivery_policy(), channels, [sh], backfill=False)
    assert report.sent and not report.failed
    [msg] = smtp.messages
    plain = msg.get_body(("plain",)).get_content()
    lines = [ln.strip() for ln in plain.splitlines()]
    i = lines.index(f"\u201c{QUOTE_1}\u201d")  # the quote alone on its line ...
    assert lines[i + 1] == HEADLINE_1  # ... then its headline, outlet and date, and the link
    assert lines[i + 2] == f"Herald, {sh.evidence[0].published}"
    assert lines[i + 3] == "http://www.news.example/a1"
    assert lines[i + 4] == ""  # a blank line before the next quote: nothing runs together
    assert lines[i + 5] == f"\u201c{QUOTE_2}\u201d"
    # the quote that only repeats its headline is not quoted; its article is still listed
    assert not any(ln.startswith("\u201c") and HEADLINE_3 in ln for ln in lines)
    assert HEADLINE_3 in lines and "http://www.news.example/a3" in lines
    assert f"Report: {REPORT}" in lines
    html = msg.get_body(("html",)).get_content()
    assert f'href="{REPORT}"' in html and 'href="http://www.news.example/a2"' in html
    assert html.count("\u201c") == 2 and "https://news.example/" not in html


def test_slack_gets_the_same_content_in_its_own_format(slack, kstance_env, monkeypatch):  # noqa: F811
    monkeypatch.setenv("KSTANCE_REPORT_URL", REPORT)
    settings = load_settings()
    store = settings.open_store()
    sh = stored_alert_world(store)
    _, report = record_and_deliver(store, settings.delivery_policy(), parse_channels([SLACK_URL]), [sh], backfill=False)
    assert report.sent
    [payload] = slack.received
    text = json.dumps(payload, ensure_ascii=False).replace("&gt; ", "> ")  # apprise sends Slack's own escape of '>'
    assert f"\\n> {QUOTE_1}\\n" in text and f"\\n> {QUOTE_2}\\n" in text and f"> {HEADLINE_3}" not in text
    assert f"<http://www.news.example/a1|{HEADLINE_1}>  Herald, {sh.evidence[0].published}" in text
    assert f"<{REPORT}|" in text and "https://news.example/" not in text


def test_alerts_command_shows_each_channels_error_and_next_retry(kstance_env, tmp_path):
    settings = load_settings()
    store = settings.open_store()
    sh = stored_alert_world(store)
    dead = mail_url(free_port())
    _, report = record_and_deliver(store, settings.delivery_policy(), parse_channels([dead]), [sh], backfill=False)
    assert report.failed
    proc = run(["alerts"], tmp_path, env={"KSTANCE_HOME": str(kstance_env)})
    assert proc.returncode == 0, proc.stderr
    [line] = [ln for ln in proc.stdout.splitlines() if "failed after 1 attempt" in ln]
    key = parse_channels([dead])[0].key
    assert (
        line.strip().startswith(f"{key}: failed after 1 attempt: ")
        and "; next try 20" in line
        and line.endswith(" UTC")
    )
    assert SECRET not in proc.stdout
    rec = json.loads(run(["alerts", "--format", "jsonl"], tmp_path, env={"KSTANCE_HOME": str(kstance_env)}).stdout)
    ch = rec["channels"][key]
    assert (
        rec["deliveries"] == {key: "failed"} and ch["attempts"] == 1 and ch["error"] and ch["next_try"].endswith(" UTC")
    )
