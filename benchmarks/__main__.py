"""`python -m benchmarks`: every benchmark, one after the other."""
import subprocess
import sys

for name in ("extraction", "classifier", "startup", "cycle", "noop", "load", "pipeline", "shift_synthetic",
             "shift_replay"):
    print(flush=True)
    rc = subprocess.call([sys.executable, "-m", f"benchmarks.{name}"])
    if rc:
        sys.exit(rc)
