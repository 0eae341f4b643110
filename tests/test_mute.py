"""`kstance mute` / `unmute` and `kstance alerts --ack`, against a real SMTP server on 127.0.0.1."""
import json
from datetime import date, timedelta

from alerts.deliver import parse_channels
from alerts.outbox import deliver_due
from flows.settings import load_settings
from pipeline.alerting import record_and_deliver
from store import repository as repo
from tests.test_alerts import free_port, mail_url, make_shift, smtp  # noqa: F401 (fixture)
from tests.test_cli import one_line_error, run


def cli(args, kstance_env):
    return run(args, kstance_env.parent, env={"KSTANCE_HOME": str(kstance_env)})


def test_a_muted_targets_alert_is_recorded_marked_and_not_sent_until_unmuted(smtp, kstance_env):  # noqa: F811
    until = (date.today() + timedelta(days=5)).isoformat()
    proc = cli(["mute", "jp", "--until", until], kstance_env)
    assert proc.returncode == 0 and f"JP muted through {until}" in proc.stdout, proc.stderr
    settings = load_settings()
    store = settings.open_store()
    channels = parse_channels([mail_url(smtp.port)])
    policy = settings.delivery_policy()
    new, report = record_and_deliver(store, policy, channels, [make_shift(actor="JP")], backfill=False)
    assert len(new) == 1 and not report.sent and smtp.messages == []
    rec = json.loads(cli(["alerts", "--format", "jsonl"], kstance_env).stdout)
    assert rec["muted"] is True and set(rec["deliveries"].values()) == {"muted"}
    assert "muted: recorded while its target was muted" in cli(["alerts"], kstance_env).stdout
    # another target is not muted
    _, report = record_and_deliver(store, policy, channels, [make_shift(actor="CN", title="China")], backfill=False)
    assert len(report.sent) == 1 and len(smtp.messages) == 1

    assert "JP unmuted" in cli(["unmute", "JP"], kstance_env).stdout
    later = make_shift(actor="JP", title="Later", day=date.today() + timedelta(days=1))
    _, report = record_and_deliver(store, policy, channels, [later], backfill=False)
    assert len(report.sent) == 1 and len(smtp.messages) == 2  # the muted alert stays unsent


def test_a_delivery_waiting_for_a_retry_is_not_sent_once_its_target_is_muted(smtp, kstance_env):  # noqa: F811
    settings = load_settings()
    store = settings.open_store()
    channels = parse_channels([mail_url(smtp.port)])
    sh = make_shift(actor="KP")
    repo.record_shifts(store, [sh], historical=False, deliver=True, channels=[channels[0].key])
    repo.set_mute(store, "KP", date.today())
    assert deliver_due(store, channels).sent == [] and smtp.messages == []
    [(alert, [delivery])] = repo.alerts(store)
    assert alert.muted and delivery.state == "muted"


def test_an_acknowledged_alert_is_not_retried_and_shows_who_saw_it(kstance_env):
    settings = load_settings()
    store = settings.open_store()
    port = free_port()  # nothing listens yet: the first try fails
    channels = parse_channels([mail_url(port)])
    sh = make_shift()
    repo.record_shifts(store, [sh], historical=False, deliver=True, channels=[channels[0].key])
    assert deliver_due(store, channels, retry_base=timedelta(0)).failed
    proc = cli(["alerts", "--ack", sh.key[:8]], kstance_env)
    assert proc.returncode == 0 and f"acknowledged {sh.key}" in proc.stdout, proc.stderr
    from tests.test_alerts import Inbox, smtp_server

    inbox = Inbox()
    ctl = smtp_server(inbox, port)
    ctl.start()
    try:
        assert deliver_due(store, channels, retry_base=timedelta(0)).sent == []
    finally:
        ctl.stop()
    assert inbox.messages == []
    rec = json.loads(cli(["alerts", "--format", "jsonl"], kstance_env).stdout)
    assert rec["acknowledged"].endswith(" UTC")


def test_mute_and_ack_mistakes_are_one_line_errors(kstance_env):
    assert "ACTOR must be one of" in one_line_error(cli(["mute", "XX", "--until", "2099-01-01"], kstance_env))
    assert "in the past" in one_line_error(cli(["mute", "JP", "--until", "2020-01-01"], kstance_env))
    assert "--until must be a date" in one_line_error(cli(["mute", "JP", "--until", "friday"], kstance_env))
    assert "at least 6 characters" in one_line_error(cli(["alerts", "--ack", "abc"], kstance_env))
    assert "no alert with an id starting" in one_line_error(cli(["alerts", "--ack", "abcdef"], kstance_env))
