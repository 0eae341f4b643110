"""The small records the core takes instead of the whole Settings: each holds what one step reads.
flows/settings.py builds them from the settings (Settings.classifier_spec(), .detector_config(), .delivery_policy())."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path


@dataclass(frozen=True)
class ModelSpec:
    """Which classifier to load: the calibrated artifact, the encoder, the backend, and where ONNX files go."""

    artifact: Path
    model: str | None = None  # encoder folder, "e5-small" or cached model id; None: the encoder the artifact names
    backend: str = "torch"  # torch or onnx
    onnx_cache: Path | None = None  # the exported ONNX encoder's folder (backend onnx)


@dataclass(frozen=True)
class DeliveryPolicy:
    """How new shifts become alerts and when alerts are sent."""

    historical_after_days: int = 14  # a shift confirmed by older articles is recorded but not sent
    digest: str = "off"  # daily: one message a day instead of single alerts
    report_url: str | None = None  # where the report is published: alerts link to it
    guarantee: str = "at-most-once"
    max_attempts: int = 8
    max_age: timedelta = timedelta(hours=72)
