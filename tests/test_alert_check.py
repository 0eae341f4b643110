"""`kstance alerts --test` and `kstance demo --send`: a user checks their channels before the first real shift.
Real peers on 127.0.0.1: an aiosmtpd SMTP server and a Slack-format webhook."""
import json
import sys

import pytest

from tests.test_alerts import SECRET, SLACK_URL, free_port, mail_url, slack, smtp  # noqa: F401 (fixtures)
from tests.test_cli import one_line_error, run

SLOW_MACHINE = {
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "600"
}  # a shared 2-core machine starts Prefect slowly


def kstance_in_process(monkeypatch, *args) -> int:
    """The kstance command in this process (so apprise's Slack plugin can be pointed at the loopback webhook)."""
    from flows.cli import main

    monkeypatch.setattr(sys, "argv", ["kstance", *args])
    with pytest.raises(SystemExit) as exc:
        main()
        sys.exit(0)
    return exc.value.code or 0


def test_test_message_goes_through_every_channel_and_each_result_is_reported(smtp, slack, kstance_env,  # noqa: F811
                                                                          monkeypatch, capsys):
    dead = mail_url(free_port())  # nothing listens there
    monkeypatch.setenv("KSTANCE_ALERT_URLS", f"{mail_url(smtp.port)} {SLACK_URL} {dead}")
    code = kstance_in_process(monkeypatch, "alerts", "--test")
    out, err = capsys.readouterr()
    assert code == 1, out + err  # one channel failed
    lines = out.splitlines()
    assert [ln.split()[0] for ln in lines[:3]] == ["sent", "sent", "FAILED"], out
    assert lines[0].split()[1].startswith("mailto:") and lines[1].split()[1].startswith("slack:")
    assert "FAILED" in lines[2] and len(lines[2].split(": ", 1)[1]) > 5  # the error itself, not just 'failed'
    assert SECRET not in out + err and "failed on 1 of 3 channels" in err
    [msg] = smtp.messages
    assert msg["Subject"].startswith("[kstance test]")
    assert "TEST message from kstance" in msg.get_body(("plain",)).get_content()
    [payload] = slack.received
    assert "TEST message from kstance" in json.dumps(payload) and "[kstance test]" in json.dumps(payload)


def test_test_message_from_the_command_line_reaches_a_local_smtp_server(smtp, tmp_path):  # noqa: F811
    proc = run(["alerts", "--test"], tmp_path, env={"KSTANCE_ALERT_URLS": mail_url(smtp.port)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("sent ") and "sent through 1 channel" in proc.stdout
    assert SECRET not in proc.stdout + proc.stderr and len(smtp.messages) == 1


def test_test_message_without_channels_says_what_to_set(tmp_path):
    assert "set KSTANCE_ALERT_URLS" in one_line_error(run(["alerts", "--test"], tmp_path))


@pytest.mark.slow
def test_demo_send_delivers_its_alert_and_says_where_its_store_and_report_are(smtp, tmp_path):  # noqa: F811
    proc = run(
        ["demo", "--send"], tmp_path, env={"KSTANCE_ALERT_URLS": mail_url(smtp.port), **SLOW_MACHINE}, timeout=900
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert any("Seoul's stance toward Japan" in m["Subject"] for m in smtp.messages), [
        m["Subject"] for m in smtp.messages
    ]
    home = tmp_path / ".kstance" / "demo"
    assert f"store:  sqlite:///{(home / 'kstance.db').resolve()}" in proc.stdout
    assert f"report: {(home / 'report' / 'index.html').resolve()}" in proc.stdout
    assert "delivered 1" in proc.stdout and SECRET not in proc.stdout + proc.stderr


@pytest.mark.slow
def test_demo_without_send_sends_nothing_even_with_channels_configured(smtp, tmp_path):  # noqa: F811
    (tmp_path / "kstance.toml").write_text(f'alert_urls = ["{mail_url(smtp.port)}"]\n')
    proc = run(["demo"], tmp_path, env=SLOW_MACHINE, timeout=900, temporary_api=True)  # as `make demo` runs
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert smtp.messages == [] and "delivered 0" in proc.stdout
