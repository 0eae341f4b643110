"""Alert delivery through apprise to real protocol peers on 127.0.0.1: an SMTP server and a Slack-format webhook."""
import dataclasses
import email
import json
import re
import socket
import time
from datetime import date, timedelta
from email import policy

import pytest

from alerts.deliver import BadAlertURL, parse_channels
from alerts.outbox import deliver_due
from alerts.render import html_body, slack_body, subject
from classifiers.shifts import Evidence, Shift
from store import repository as repo
from tests.conftest import respond

SECRET = "hunter2-s3cret"
NASTY = "<script>alert(1)</script> @channel <!here> <https://evil.example|click>"


def make_shift(title="Seoul summons Japanese envoy", actor="JP", day=None) -> Shift:
    day = day or date.today()
    ev = (Evidence("The foreign ministry summoned a senior Japanese diplomat and demanded Tokyo withdraw the claim.",
                   title, "https://news.example/a1", day),)
    return Shift(actor, "cooperative", "confrontational", 0.62, -0.71, 1.33, 0.88, day, day - timedelta(days=3), day,
                 ("https://news.example/a0", "https://news.example/a1"), ev)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    def __init__(self):
        self.messages = []
        self.logins = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def smtp_server(inbox: Inbox, port: int):
    """A real SMTP server that requires the login kstance is configured with (over plain SMTP on loopback)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.password.decode() == SECRET
        inbox.logins.append(ok)
        return AuthResult(success=ok)

    return Controller(inbox, hostname="127.0.0.1", port=port, authenticator=authenticator,
                      auth_require_tls=False, auth_required=True)


@pytest.fixture
def smtp():
    inbox = Inbox()
    port = free_port()
    ctl = smtp_server(inbox, port)
    ctl.start()
    inbox.port, inbox.controller = port, ctl
    yield inbox
    try:
        ctl.stop()
    except Exception:
        pass




def mail_url(port: int) -> str:
    return f"mailto://kstance:{SECRET}@127.0.0.1:{port}?from=kstance@example.com&to=desk@example.com&mode=insecure"


def test_email_reaches_a_real_smtp_server_with_subject_stance_and_evidence(smtp, store):
    channels = parse_channels([mail_url(smtp.port)])
    sh = make_shift()
    repo.record_shifts(store, [sh], historical=False, deliver=True, channels=[c.key for c in channels])
    report = deliver_due(store, channels)
    assert report.sent == [(sh.key, channels[0].key)] and not report.failed
    assert len(smtp.messages) == 1 and smtp.logins == [True]
    msg = smtp.messages[0]
    assert msg["Subject"] == "Seoul's stance toward Japan: cooperative -> confrontational"
    html, plain = msg.get_body(("html",)), msg.get_body(("plain",))
    assert html is not None and plain is not None  # HTML with a plain-text alternative
    for part in (html, plain):
        body = " ".join(part.get_content().split())
        assert "summoned a senior Japanese diplomat" in body and "https://news.example/a1" in body
    # delivered exactly once: another pass sends nothing
    assert deliver_due(store, channels).sent == [] and len(smtp.messages) == 1


def test_smtp_down_then_up_delivers_exactly_once(store):
    port = free_port()
    channels = parse_channels([mail_url(port)])
    sh = make_shift()
    repo.record_shifts(store, [sh], historical=False, deliver=True, channels=[c.key for c in channels])
    first = deliver_due(store, channels, retry_base=timedelta(0))
    assert first.failed and not first.sent
    assert SECRET not in first.failed[0][2]
    [(alert, [delivery])] = repo.alerts(store)
    assert delivery.state == "failed" and delivery.attempts == 1 and delivery.last_error

    inbox = Inbox()
    ctl = smtp_server(inbox, port)
    ctl.start()
    try:
        second = deliver_due(store, channels, retry_base=timedelta(0))
        third = deliver_due(store, channels, retry_base=timedelta(0))
    finally:
        ctl.stop()
    assert len(second.sent) == 1 and third.sent == [] and len(inbox.messages) == 1
    [(alert, [delivery])] = repo.alerts(store)
    assert delivery.state == "sent" and delivery.attempts == 2


@pytest.fixture
def slack(server, monkeypatch):
    """Slack's incoming-webhook endpoint is outside this machine's reach: apprise's Slack plugin is pointed at a
    loopback server that speaks the same protocol (POST of Slack's JSON, answering 'ok')."""
    from apprise.plugins.slack import NotifySlack

    monkeypatch.setattr(NotifySlack, "webhook_url", server.url("/services"))
    received, answers, accepted = [], [], []

    def hook(req):
        n = int(req.headers.get("Content-Length", 0))
        received.append(json.loads(req.rfile.read(n)))
        status = answers.pop(0) if answers else 200
        if status == "hang":  # never answers in time; the post is dropped, as a timed-out gateway drops it
            time.sleep(2.5)
            req.close_connection = True
            return
        if status == 200:
            accepted.append(received[-1])
        respond("ok" if status == 200 else "server error", status=status, ctype="text/plain")(req)

    server.routes["/services/T000AAAA/B000BBBB/XXXXXXXXXXXXXXXXXXXXXXXX"] = hook
    server.received, server.answers, server.accepted = received, answers, accepted
    return server


SLACK_URL = "https://hooks.slack.com/services/T000AAAA/B000BBBB/XXXXXXXXXXXXXXXXXXXXXXXX"


def test_slack_payload_is_slack_format_and_escapes_article_text(slack, store):
    channels = parse_channels([SLACK_URL])
    assert channels[0].key.startswith("slack:")
    sh = make_shift(title=NASTY)
    repo.record_shifts(store, [sh], historical=False, deliver=True, channels=[channels[0].key])
    assert deliver_due(store, channels).sent
    [payload] = slack.received
    text = json.dumps(payload)
    assert "Seoul's stance toward Japan" in text
    assert "<!here>" not in text and "@channel" not in text.replace("@\\u200bchannel", "")
    assert "<https://evil.example|click>" not in text and "<script>" not in text


def test_webhook_500_then_200_is_retried_and_delivered_once(slack, store):
    channels = parse_channels([SLACK_URL])
    slack.answers.extend([500])
    sh = make_shift()
    repo.record_shifts(store, [sh], historical=False, deliver=True, channels=[channels[0].key])
    assert deliver_due(store, channels, retry_base=timedelta(0)).failed
    assert len(deliver_due(store, channels, retry_base=timedelta(0)).sent) == 1
    assert deliver_due(store, channels, retry_base=timedelta(0)).sent == []
    assert len(slack.received) == 2  # one refused, one accepted, none after


def test_webhook_timing_out_after_receiving_is_unknown_and_never_resent(slack, store):
    """The POST arrived, the answer did not (apprise's read timeout): at most once, it is not sent again."""
    channels = parse_channels([SLACK_URL + "?rto=1"])  # apprise's read timeout: 1 s
    slack.answers.extend(["hang"])
    sh = make_shift()
    repo.record_shifts(store, [sh], historical=False, deliver=True, channels=[channels[0].key])
    first = deliver_due(store, channels, retry_base=timedelta(0))
    assert first.unknown == [(sh.key, channels[0].key)] and not first.failed and not first.sent
    [(_, [delivery])] = repo.alerts(store)
    assert delivery.state == "unknown" and delivery.attempts == 1 and "read timeout" in delivery.last_error
    for _ in range(2):
        again = deliver_due(store, channels, retry_base=timedelta(0))
        assert again.sent == [] and again.failed == []
    assert len(slack.received) == 1  # what the endpoint received, not what it answered


def test_webhook_timing_out_is_sent_again_under_at_least_once(slack, store):
    channels = parse_channels([SLACK_URL + "?rto=1"])
    slack.answers.extend(["hang"])
    sh = make_shift()
    repo.record_shifts(store, [sh], historical=False, deliver=True, channels=[channels[0].key])
    assert deliver_due(store, channels, retry_base=timedelta(0), guarantee="at-least-once").failed
    assert len(deliver_due(store, channels, retry_base=timedelta(0), guarantee="at-least-once").sent) == 1
    assert deliver_due(store, channels, retry_base=timedelta(0), guarantee="at-least-once").sent == []
    assert len(slack.received) == 2 and len(slack.accepted) == 1


def test_a_late_answering_json_webhook_receives_each_alert_once(server, store):
    """A generic json:// webhook that takes the POST and answers after apprise's read timeout."""
    received = []

    def late(req):
        n = int(req.headers.get("Content-Length", 0))
        received.append(json.loads(req.rfile.read(n)))
        time.sleep(2.0)
        respond("ok", ctype="text/plain")(req)

    server.routes["/hook"] = late
    channels = parse_channels([server.url("/hook").replace("http://", "json://") + "?rto=1"])
    shifts = [make_shift(title=f"Story {a}", actor=a) for a in ("JP", "CN")]
    repo.record_shifts(store, shifts, historical=False, deliver=True, channels=[channels[0].key])
    for _ in range(3):
        deliver_due(store, channels, retry_base=timedelta(0))
    assert sorted(r["title"] for r in received) == sorted(subject(sh) for sh in shifts)
    assert sorted(d.state for _, dels in repo.alerts(store) for d in dels) == ["unknown", "unknown"]


def test_a_refused_connection_is_failed_then_dead_after_its_attempts_with_the_last_error(store):
    port = free_port()  # nothing listens: the request never left
    channels = parse_channels([f"json://127.0.0.1:{port}/hook"])
    sh = make_shift()
    repo.record_shifts(store, [sh], historical=False, deliver=True, channels=[channels[0].key])
    first = deliver_due(store, channels, retry_base=timedelta(0), max_attempts=2)
    assert first.failed and not first.unknown and not first.dead
    second = deliver_due(store, channels, retry_base=timedelta(0), max_attempts=2)
    assert second.failed and [(a, c) for a, c, _ in second.dead] == [(sh.key, channels[0].key)]
    [(_, [delivery])] = repo.alerts(store)
    assert delivery.state == "dead" and delivery.attempts == 2 and "last error" in delivery.last_error
    assert deliver_due(store, channels, retry_base=timedelta(0), max_attempts=2).failed == []  # given up


def test_an_alert_older_than_the_maximum_age_is_dead(store):
    port = free_port()
    channels = parse_channels([f"json://127.0.0.1:{port}/hook"])
    repo.record_shifts(store, [make_shift()], historical=False, deliver=True, channels=[channels[0].key])
    assert deliver_due(store, channels, retry_base=timedelta(0)).failed
    report = deliver_due(store, channels, retry_base=timedelta(0), max_age=timedelta(0))
    assert report.dead and not report.failed  # not tried again: dead before the attempt
    [(_, [delivery])] = repo.alerts(store)
    assert delivery.state == "dead" and delivery.attempts == 1


def test_retry_and_drop_by_hand_from_the_command_line(server, tmp_path):
    from tests.test_cli import one_line_error, run

    received = []

    def hook(req):
        n = int(req.headers.get("Content-Length", 0))
        received.append(json.loads(req.rfile.read(n)))
        respond("ok", ctype="text/plain")(req)

    server.routes["/hook"] = hook
    url = server.url("/hook").replace("http://", "json://")
    channels = parse_channels([url])
    db_url = f"sqlite:///{tmp_path / 'k.db'}"
    store = repo.open_store(db_url)
    jp, cn = make_shift(actor="JP"), make_shift(actor="CN")
    repo.record_shifts(store, [jp, cn], historical=False, deliver=True, channels=[channels[0].key])
    for sh in (jp, cn):  # as a late-answering webhook leaves them
        repo.mark_delivery(store, sh.key, channels[0].key, state="sending")
        repo.mark_delivery(store, sh.key, channels[0].key, state="unknown", error="outcome unknown: read timeout")
    env = {"KSTANCE_DATABASE_URL": db_url}
    proc = run(["alerts", "--retry", jp.key[:10]], tmp_path, env)
    assert proc.returncode == 0 and "will be sent at the next run" in proc.stdout, proc.stderr
    proc = run(["alerts", "--drop", cn.key], tmp_path, env)
    assert proc.returncode == 0 and "dropped" in proc.stdout, proc.stderr
    assert "no alert with id" in one_line_error(run(["alerts", "--retry", "nope"], tmp_path, env))
    report = deliver_due(store, channels, retry_base=timedelta(0))
    assert report.sent == [(jp.key, channels[0].key)] and [r["title"] for r in received] == [subject(jp)]
    states = {a.id: [d.state for d in dels] for a, dels in repo.alerts(store)}
    assert states == {jp.key: ["sent"], cn.key: ["dropped"]}
    assert deliver_due(store, channels, retry_base=timedelta(0)).sent == [] and len(received) == 1
    store.close()


def test_historical_alerts_are_recorded_but_not_sent(smtp, store):
    channels = parse_channels([mail_url(smtp.port)])
    repo.record_shifts(store, [make_shift()], historical=True, deliver=False, channels=[channels[0].key])
    assert deliver_due(store, channels).sent == [] and smtp.messages == []
    [(alert, [delivery])] = repo.alerts(store)
    assert alert.historical and delivery.state == "skipped"


def test_interrupted_send_is_not_repeated(smtp, store):
    channels = parse_channels([mail_url(smtp.port)])
    sh = make_shift()
    repo.record_shifts(store, [sh], historical=False, deliver=True, channels=[channels[0].key])
    repo.mark_delivery(store, sh.key, channels[0].key, state="sending")  # as a run killed mid-send leaves it
    report = deliver_due(store, channels)
    assert report.unknown == [(sh.key, channels[0].key)] and not report.sent and smtp.messages == []


def test_bad_alert_url_is_named_at_start_up_with_its_secret_masked():
    with pytest.raises(BadAlertURL) as exc:
        parse_channels(["mailto://desk@example.com", f"nosuchservice://user:{SECRET}@host/path"])
    assert "#2" in str(exc.value) and SECRET not in str(exc.value)


def test_html_email_escapes_headlines():
    body = html_body(make_shift(title=NASTY))
    assert "<script>" not in body and "&lt;script&gt;" in body
    assert subject(make_shift()) == "Seoul's stance toward Japan: cooperative -> confrontational"
    assert "<!here>" not in slack_body(make_shift(title=NASTY))


MENTIONS = "Seoul !channel !here !everyone <!here> @U024BE7LH <@U024BE7LH> @here !subteam^S0614TZR7|desk> x & y"


def test_slack_payload_has_no_mention_token_and_is_escaped_once(slack, store):
    """apprise's Slack plugin entity-escapes the body and then rewrites `!word>`, `@word>` and `https://...>`
    into live tokens: a headline must not become a channel ping or a user mention, and `->` is escaped once."""
    channels = parse_channels([SLACK_URL])
    sh = make_shift(title=MENTIONS)
    sh = dataclasses.replace(sh, evidence=(Evidence(MENTIONS + " see https://evil.example|click> now", MENTIONS,
                                                    "https://news.example/@U024BE7LH!here", sh.evidence[0].published),))
    repo.record_shifts(store, [sh], historical=False, deliver=True, channels=[channels[0].key])
    assert deliver_due(store, channels).sent
    [payload] = slack.received
    text = json.dumps(payload, ensure_ascii=False)
    assert not re.search(r"<[!@]", text), text  # no <!channel>, <!here>, <!everyone>, <@U...>, <!subteam...>
    assert "<https://evil.example" not in text
    assert "&amp;gt;" not in text and "&amp;lt;" not in text and "&amp;amp;" not in text
    assert "cooperative -&gt; confrontational" in text  # the one escaping Slack needs
    assert "U024BE7LH" in text and "channel" in text  # the words are still there, inert
