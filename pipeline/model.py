"""The classifier, loaded once per process, and the calibrated artifact's metadata without loading it."""
from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.config import ModelSpec

if TYPE_CHECKING:  # the classifier (torch, the encoder) is imported only when there is something to judge
    from classifiers.stance import StanceModel

_models: dict[tuple, StanceModel] = {}
_model_lock = threading.Lock()


def get_model(spec: ModelSpec) -> "StanceModel":
    """The classifier, loaded once per process for a given artifact, encoder and backend."""
    key = (str(spec.artifact), spec.model, spec.backend)
    with _model_lock:
        if key not in _models:
            if spec.backend == "onnx":
                from classifiers.onnx_backend import load_onnx_model

                _models[key] = load_onnx_model(spec.artifact, spec.model, spec.onnx_cache)
            else:
                from classifiers.stance import StanceModel

                _models[key] = StanceModel.load(spec.artifact, spec.model)
        return _models[key]


def artifact_meta(artifact: Path) -> dict:
    """The calibrated artifact's metadata (languages, reference profile, version) without loading the model:
    a cycle with nothing to judge never pays for torch and the encoder."""
    path = artifact / "model.json"
    if not path.exists():
        raise FileNotFoundError(f"no calibrated model in {artifact} (run `kstance calibrate`)")
    return json.loads(path.read_text())


def model_version(model: "StanceModel | dict") -> str:
    meta = model if isinstance(model, dict) else model.meta
    return f"v{meta.get('version', 0)}-{meta.get('train', {}).get('corpus_fingerprint', 'unknown')[:8]}"


def model_languages(meta: dict) -> tuple[str, ...]:
    return tuple(meta.get("languages", ["en"]))


def reference_profile(artifact: Path) -> dict:
    """The seed documents' stance per actor, as the calibrated artifact records it ({} without an artifact)."""
    path = artifact / "model.json"
    if path.exists():
        return json.loads(path.read_text()).get("reference_profile", {})
    return {}
