"""`python -m benchmarks.startup`: what a process pays before its first judgment, and the command a user types.

Each measurement is a fresh Python process (median of `--repeats`): it imports the classifier, loads the shipped
artifact and judges one sentence; once through transformers (`snapshot=False`) and once from the encoder's start-up
snapshot (classifiers.snapshot), built beforehand in a temporary cache folder. Wall and CPU time (user + system,
the process and its children) and peak resident memory; then `kstance classify` on one sentence as a user runs it
(with the installation's own cache, where the snapshot is made on first use).
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import report

KSTANCE = str(Path(sys.executable).with_name("kstance"))
SENTENCE = "The foreign ministry lodged a strong protest with Tokyo over the textbook."

CHILD = """
import json, resource, sys, time
t = time.perf_counter()
from classifiers.corpus import seeds_dir
from classifiers.stance import StanceModel
model = StanceModel.load(seeds_dir() / "model", snapshot=sys.argv[1] == "snapshot", cache_dir=sys.argv[2])
loaded = time.perf_counter() - t
verdict = model.judge_text(sys.argv[3], "en")
print(json.dumps({"loaded_s": loaded, "first_judgment_s": time.perf_counter() - t, "from_snapshot": model.from_snapshot,
                  "transformers_imported": "transformers.modeling_utils" in sys.modules,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_child(args: list[str]) -> tuple[float, float, str]:
    """(wall s, CPU s of the child, its stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    out = subprocess.run(args, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, out.stdout


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    rows: list[tuple[str, str]] = []
    figures: dict[str, float | str] = {}
    with tempfile.TemporaryDirectory() as cache:
        run_child([sys.executable, "-c", CHILD, "snapshot", cache, SENTENCE])  # makes the snapshot
        for mode in ("transformers", "snapshot"):
            walls, cpus, firsts, peaks = [], [], [], []
            for _ in range(args.repeats):
                wall, cpu, out = run_child([sys.executable, "-c", CHILD, mode, cache, SENTENCE])
                res = json.loads(out.strip().splitlines()[-1])
                assert res["from_snapshot"] == (mode == "snapshot")
                walls.append(wall)
                cpus.append(cpu)
                firsts.append(res["first_judgment_s"])
                peaks.append(res["peak_mb"])
            rows.append((f"{mode}: process to first judgment, wall / CPU",
                         f"{statistics.median(walls):.1f} s / {statistics.median(cpus):.1f} s"))
            rows.append((f"{mode}: peak memory", f"{statistics.median(peaks):.0f} MB"))
            figures.update({f"{mode}_wall_s": round(statistics.median(walls), 2),
                            f"{mode}_cpu_s": round(statistics.median(cpus), 2),
                            f"{mode}_peak_mb": round(statistics.median(peaks))})
    with tempfile.TemporaryDirectory() as home:
        text = Path(home) / "one.txt"
        text.write_text(SENTENCE)
        run_child([KSTANCE, "classify", str(text)])  # the installation's cache gets its snapshot if it had none
        walls, cpus = [], []
        for _ in range(args.repeats):
            wall, cpu, _ = run_child([KSTANCE, "classify", str(text)])
            walls.append(wall)
            cpus.append(cpu)
    rows.append(("`kstance classify` one sentence, wall / CPU",
                 f"{statistics.median(walls):.1f} s / {statistics.median(cpus):.1f} s"))
    figures.update({"classify_wall_s": round(statistics.median(walls), 2),
                    "classify_cpu_s": round(statistics.median(cpus), 2)})
    figures["speedup_cpu"] = round(figures["transformers_cpu_s"] / figures["snapshot_cpu_s"], 2)
    report("startup", rows, figures)


if __name__ == "__main__":
    main()
