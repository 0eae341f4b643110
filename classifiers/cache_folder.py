"""A cache folder built whole or not at all, safe when several processes ask for it at once and when one is killed
half-way: the build runs under a file lock into a temporary folder beside it, renamed into place only when complete
(used for the multilingual encoder's transformers folder and the int8 ONNX exports)."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Callable


def build_in_place(folder: Path, *, ready: Callable[[Path], bool], build: Callable[[Path], object],
                   prefix: str, wait: bool = True) -> Path:
    """`folder`, built by `build(dest)` unless `ready(folder)` says it is complete. `prefix` names the lock and the
    temporary folders in the parent (leftovers of a killed build are removed by the next one). Without `wait`, a
    build another process holds the lock for raises filelock.Timeout at once instead of waiting for it."""
    from filelock import FileLock

    if ready(folder):
        return folder
    cache = folder.parent
    cache.mkdir(parents=True, exist_ok=True)
    with FileLock(str(cache / f"{prefix}build.lock"), timeout=-1 if wait else 0):
        if ready(folder):  # another process built it while we waited
            return folder
        for stale in cache.glob(f"{prefix}*.tmp*"):  # left by a build that was killed (we hold the lock)
            shutil.rmtree(stale, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=prefix, suffix=".tmp", dir=cache))
        try:
            build(tmp / "new")
            if folder.exists():  # damaged or partial: move it aside first (a rename cannot replace a folder)
                trash = Path(tempfile.mkdtemp(prefix=prefix, suffix=".tmp-old", dir=cache))
                folder.rename(trash / "old")
                shutil.rmtree(trash, ignore_errors=True)
            (tmp / "new").rename(folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return folder
