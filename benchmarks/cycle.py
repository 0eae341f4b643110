"""A daily `monitor` run against a loopback feed server: with 200 new items, then again with 0 new items.
Seconds are measured inside the flow run, so Prefect's start-up (temporary API) is reported apart."""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from benchmarks.common import peak_rss_mb, report
from benchmarks.load import bench_items


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        # Prefect reads its own settings from the environment, before it is imported; kstance's are passed
        os.environ.update({"PREFECT_HOME": str(home / "prefect"), "PREFECT_LOGGING_LEVEL": "ERROR"})
        from flows.demo import DemoServer
        from flows.settings import prepare_prefect_env

        prepare_prefect_env(home)
        with DemoServer(bench_items(200)) as srv:
            feeds = home / "feeds.toml"
            feeds.write_text(f'[[feeds]]\nname = "bench"\nurl = "{srv.base}/feed.xml"\n')
            overrides = {"home": str(home), "allow_private_addresses": True, "politeness_delay_s": 0,
                         "feeds": str(feeds)}
            from flows.monitor import monitor
            from flows.settings import load_settings
            from pipeline.model import get_model

            t0 = time.perf_counter()
            get_model(load_settings(**overrides).classifier_spec())  # once per process, as in `kstance serve`
            t_model = time.perf_counter() - t0
            timings = []
            for label in ("200 new items", "0 new items", "0 new items (again)"):
                t = time.perf_counter()
                state = monitor(today="2026-07-30", deliver=False, settings=overrides, return_state=True)
                total = time.perf_counter() - t
                run = state.state_details.flow_run_id
                from prefect.client.orchestration import get_client

                with get_client(sync_client=True) as client:
                    fr = client.read_flow_run(run)
                inside = fr.total_run_time.total_seconds() if fr.total_run_time else total
                timings.append((label, total, inside, state.result()["judged"]))
    rows = [("model load (once per process)", f"{t_model:.1f} s")]
    for label, total, inside, judged in timings:
        rows.append((f"{label}: wall / inside the flow run", f"{total:.1f} s / {inside:.1f} s ({judged} judged)"))
    rows.append(("peak RSS MB", f"{peak_rss_mb():.0f}"))
    report("cycle", rows, {"new200_s": round(timings[0][2], 2), "new0_s": round(timings[2][2], 2),
                           "new0_wall_s": round(timings[2][1], 2), "model_load_s": round(t_model, 2),
                           "peak_rss_mb": round(peak_rss_mb())})


if __name__ == "__main__":
    main()
