"""End-to-end backfill throughput and peak memory, against the sum of its parts measured in the same run.

The archive: N article pages built from the project's calibration sentences (8 per article, shuffled, so every
article is relevant and distinct), each wrapped in one of the 181 real pages of
../shared/corpus/article-extraction-benchmark in place of its body (so extraction works on real page chrome and
size), as JSONL with `html`. Each configuration runs `kstance backfill` in a fresh process and store, and reports
articles/s and the process's peak RSS. The sum-of-parts limit is extraction alone plus the classifier alone on
the same articles, in this process.
"""
from __future__ import annotations

import argparse
import gzip
import html
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import SHARED, report


def build_archive(path: Path, n: int, seed: int = 5) -> None:
    from classifiers.corpus import dev_examples, training_examples

    sents = [e.text for e in training_examples()] + [e.text for e in dev_examples()]
    base = SHARED / "corpus" / "article-extraction-benchmark" / "html"
    shells = [gzip.decompress(p.read_bytes()).decode("utf-8", "replace") for p in sorted(base.glob("*.html.gz"))]
    rng = random.Random(seed)
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for i in range(n):
            body = "".join(f"<p>{html.escape(rng.choice(sents))}</p>" for _ in range(8))
            shell = shells[i % len(shells)]
            # the real page's <body> content is replaced by a headline and the article: chrome stays in <head>
            page = re.sub(r"(?is)<body[^>]*>.*</body>", f"<body><header><nav>News | World | Politics</nav></header>"
                          f"<article><h1>Story {i}</h1>{body}</article><footer>About us | Contact</footer></body>",
                          shell, count=1)
            day = f"2024-{1 + (i // 28) % 12:02d}-{1 + i % 28:02d}"
            fh.write(json.dumps({"url": f"https://bench.example/{i:06d}", "title": f"Story {i}", "published": day,
                                 "html": page, "source": f"Outlet {i % 7}"}) + "\n")


def run_backfill(archive: Path, workdir: Path, workers: int) -> tuple[float, float, dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KSTANCE_", "PREFECT_"))}
    env["KSTANCE_HOME"] = str(workdir)
    cmd = [str(Path(sys.executable).with_name("kstance")), "backfill", str(archive)]
    if workers:
        cmd += ["--workers", str(workers)]
    # a fresh intermediate process per configuration: its RUSAGE_CHILDREN peak is this backfill's alone
    # (the largest single process among the backfill and its Dask workers)
    wrapper = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
               "sys.stdout.write(r.stdout); sys.stderr.write(r.stderr); "
               "print('PEAK', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)")
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", wrapper, *cmd], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if proc.returncode:
        sys.exit(f"backfill failed: {proc.stderr.strip()[-300:]}")
    peak = int(next(ln for ln in proc.stdout.splitlines() if ln.startswith("PEAK")).split()[1]) / 1024
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("read ")), "")
    return elapsed, peak, {"summary": line}


def parts(archive: Path, limit: int) -> tuple[float, float]:
    """Seconds for extraction alone and for the classifier alone, on the first `limit` articles."""
    from classifiers.corpus import seeds_dir
    from classifiers.stance import StanceModel
    from extractors.archives import read_archive

    t = time.perf_counter()
    arts = [a for _, a in zip(range(limit), read_archive(archive))]
    t_extract = time.perf_counter() - t
    model = StanceModel.load(seeds_dir() / "model")
    t = time.perf_counter()
    model.judge_texts([a.text for a in arts], [a.language for a in arts])
    return t_extract, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, nargs="+", default=[5000, 20000])
    ap.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    args = ap.parse_args()
    rows, figures = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.articles:
            archive = Path(tmp) / f"archive-{n}.jsonl.gz"
            build_archive(archive, n)
            t_ex, t_cl = parts(archive, min(n, 1000))
            limit_rate = min(n, 1000) / (t_ex + t_cl)
            rows.append((f"{n}: sum-of-parts limit (1,000 articles)", f"{limit_rate:.1f} articles/s "
                         f"(extraction {min(n, 1000) / t_ex:.0f}/s, classifier {min(n, 1000) / t_cl:.1f}/s)"))
            figures[f"limit_{n}"] = round(limit_rate, 2)
            for w in args.workers:
                elapsed, peak, info = run_backfill(archive, Path(tmp) / f"home-{n}-{w}", w)
                rate = n / elapsed
                rows.append((f"{n}: backfill, {'1 process' if not w else f'{w} Dask workers'}",
                             f"{rate:.1f} articles/s, {rate / limit_rate:.2f} of the limit, peak RSS {peak:.0f} MB"))
                figures[f"rate_{n}_w{w}"] = round(rate, 2)
                figures[f"rss_mb_{n}_w{w}"] = round(peak)
    report("pipeline", rows, figures)


if __name__ == "__main__":
    main()
