"""200 feeds of 50 items each on a loopback server, in one `monitor` cycle: wall time, articles/s, requests in
flight at most (the bound is `max_concurrent_requests`), and resident memory sampled through the cycle (flat
once the first feeds are judged: the cycle holds only a window of collected feeds at a time)."""
from __future__ import annotations

import argparse
import os
import random
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.common import peak_rss_mb, report, rss_mb
from classifiers.corpus import dev_examples


def bench_items(n: int, sentences: int = 8, seed: int = 3) -> list[dict]:
    """Article pages built from the dev split's sentences (8 per page, about 1,400 characters of body)."""
    sents = [e.text for e in dev_examples()]
    rng = random.Random(seed)
    return [{"slug": f"item-{i:05d}", "title": f"Item {i}", "published": f"2026-07-{1 + i % 28:02d}", "outlet": "bench",
             "text": " ".join(rng.choice(sents) for _ in range(sentences))} for i in range(n)]


def one_cycle(srv, overrides: dict, concurrency: int) -> tuple[dict, float, list[tuple[float, float, int]]]:
    """One monitor cycle on its own task runner, resident memory and requests sampled every 2 s."""
    from prefect.task_runners import ThreadPoolTaskRunner

    from flows.monitor import monitor
    from flows.settings import load_settings
    from pipeline.model import get_model

    get_model(load_settings(**overrides).classifier_spec())
    samples: list[tuple[float, float, int]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(2.0):
            samples.append((time.perf_counter() - t0, rss_mb(), srv.requests))

    t0 = time.perf_counter()
    threading.Thread(target=sample, daemon=True).start()
    flow = monitor.with_options(task_runner=ThreadPoolTaskRunner(max_workers=concurrency))
    result = flow(today="2026-07-30", deliver=False, settings=overrides)
    wall = time.perf_counter() - t0
    done.set()
    return result, wall, samples


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--feeds", type=int, default=200)
    ap.add_argument("--items", type=int, default=50)
    ap.add_argument("--concurrency", type=int, default=4)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        # Prefect reads its own settings from the environment, before it is imported; kstance's are passed
        os.environ.update({"PREFECT_HOME": str(home / "prefect"), "PREFECT_LOGGING_LEVEL": "ERROR"})
        from flows.demo import DemoServer
        from flows.settings import prepare_prefect_env

        prepare_prefect_env(home)
        with DemoServer(bench_items(args.feeds * args.items), feeds=args.feeds) as srv:
            feeds = home / "feeds.toml"
            feeds.write_text("".join(f'[[feeds]]\nname = "load {k}"\nurl = "{u}"\n'
                                     for k, u in enumerate(srv.feed_urls())))
            overrides = {"home": str(home), "allow_private_addresses": True, "politeness_delay_s": 0,
                         "max_concurrent_requests": args.concurrency, "feeds": str(feeds)}
            result, wall, samples = one_cycle(srv, overrides, args.concurrency)
            ok = sum(f["status"] == "ok" for f in result["feeds"])
    n = args.feeds * args.items
    pages = [(t, r) for t, r, req in samples if req > n * 0.1]  # after the first tenth of the pages
    quarter = [min(pages, key=lambda p: abs(p[0] - wall * q))[1] for q in (0.25, 0.5, 0.75, 1.0)] if pages else []
    rows = [("feeds x items", f"{args.feeds} x {args.items} = {n} pages"),
            ("feeds ok", f"{ok} / {args.feeds}"), ("articles judged", str(result["judged"])),
            ("wall, one cycle", f"{wall:.0f} s"), ("articles/s", f"{n / wall:.1f}"),
            ("requests in flight at most (bound)", f"{srv.max_in_flight} ({args.concurrency})"),
            ("RSS MB at 1/4, 1/2, 3/4, end of the cycle", ", ".join(f"{r:.0f}" for r in quarter)),
            ("peak RSS MB", f"{peak_rss_mb():.0f}")]
    report("load", rows, {"feeds": args.feeds, "items": args.items, "feeds_ok": ok, "judged": result["judged"],
                          "wall_s": round(wall, 1), "articles_per_s": round(n / wall, 2),
                          "max_in_flight": srv.max_in_flight,
                          "rss_quarter_mb": "/".join(f"{r:.0f}" for r in quarter), "peak_rss_mb": round(peak_rss_mb())})


if __name__ == "__main__":
    main()
