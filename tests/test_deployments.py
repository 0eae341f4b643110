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
