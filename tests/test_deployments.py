"""The deployment objects `kstance serve` serves carry the schedule, its time zone and the parameters."""
from flows.deployments import BACKFILL, CALIBRATE, MONITOR, deployments
from flows.settings import load_settings


def test_monitor_is_scheduled_daily_at_seven_in_seoul(kstance_env):
    deps = {d.name: d for d in deployments(load_settings())}
    assert set(deps) == {MONITOR, BACKFILL, CALIBRATE}
    [sched] = deps[MONITOR].schedules
    assert sched.schedule.cron == "0 7 * * *" and sched.schedule.timezone == "Asia/Seoul"
    assert deps[MONITOR].parameters == {"deliver": True}
    assert not deps[BACKFILL].schedules and deps[BACKFILL].parameters["deliver_alerts"] is False


def test_schedule_is_configurable(kstance_env, monkeypatch):
    monkeypatch.setenv("KSTANCE_SCHEDULE_CRON", "30 6 * * 1-5")
    monkeypatch.setenv("KSTANCE_SCHEDULE_TIMEZONE", "Europe/Berlin")
    dep = next(d for d in deployments(load_settings()) if d.name == MONITOR)
    assert (dep.schedules[0].schedule.cron, dep.schedules[0].schedule.timezone) == ("30 6 * * 1-5", "Europe/Berlin")


def test_served_cycles_follow_max_concurrent_requests(tmp_path):
    """`kstance serve` runs each cycle in a fresh process that imports the flow from flows.monitor (Prefect's
    runner loads the deployment's entrypoint): its task runner must follow KSTANCE_MAX_CONCURRENT_REQUESTS."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("KSTANCE_")}
    code = "from flows.monitor import monitor; print(monitor.task_runner._max_workers)"
    out = {}
    for value in ("7", None):
        e = {
            **env,
            "KSTANCE_HOME": str(tmp_path / "home"),
            **({"KSTANCE_MAX_CONCURRENT_REQUESTS": value} if value else {}),
        }
        proc = subprocess.run([sys.executable, "-c", code], env=e, cwd=tmp_path, capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 0, proc.stderr
        out[value] = proc.stdout.split()[-1]
    assert out == {"7": "7", None: "4"}


def test_the_prefect_server_port_is_a_real_free_port():
    """Prefect's usual 4200 when free, another free port when it is taken, and a real port number when asked
    for any (0 is not a port a server can be reached on)."""
    import socket

    from flows.server import _free_port

    assert _free_port(0) > 0
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        taken = held.getsockname()[1]
        assert _free_port(taken) not in (0, taken)
