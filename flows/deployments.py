"""The deployments `kstance serve` serves: the daily monitor on its schedule, backfill and calibrate on demand.

One run at a time is the runner's limit (`serve(..., limit=1)` in flows/cli.py), not a deployment concurrency
limit: with prefect 3.8.8, a served deployment with `concurrency_limit=1` had its scheduled run cancelled on
start ("Deployment concurrency slot lost during provisioning", measured 2026-11-29)."""
from __future__ import annotations

from prefect.schedules import Cron

from flows.settings import Settings

MONITOR = "kstance-daily"
BACKFILL = "kstance-backfill"
CALIBRATE = "kstance-calibrate"


def deployments(settings: Settings) -> list:
    from flows.backfill import backfill
    from flows.calibrate import calibrate_flow
    from flows.monitor import monitor

    return [
        monitor.to_deployment(name=MONITOR, schedule=Cron(settings.schedule_cron, timezone=settings.schedule_timezone),
                              parameters={"deliver": True},
                              description="One monitoring cycle: poll feeds, judge, detect shifts, alert."),
        backfill.to_deployment(name=BACKFILL, parameters={"sources": [], "deliver_alerts": False},
                               description="Replay archives: `prefect deployment run backfill/kstance-backfill "
                                           "--param sources='[\"/data/a.jsonl.gz\"]'`"),
        calibrate_flow.to_deployment(name=CALIBRATE, description="Refit the stance classifier on seeds/."),
    ]
