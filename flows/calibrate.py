"""The calibration flow: the deterministic refit of the stance classifier, runnable as a deployment."""
from __future__ import annotations

from prefect import flow

from flows.settings import load_settings


@flow(name="calibrate", log_prints=False, validate_parameters=False)
def calibrate_flow(folds: int = 5, epochs: int = 2, settings: dict | None = None) -> dict:
    """`settings`: overrides of the configured settings (names as in Settings); a deployment passes none."""
    from classifiers.calibration import TrainConfig, calibrate

    settings = load_settings(**(settings or {}))
    meta = calibrate(settings.model_artifact, cfg=TrainConfig(folds=folds, epochs=epochs), model_spec=settings.model)
    try:
        from prefect.artifacts import create_markdown_artifact

        create_markdown_artifact((settings.model_artifact / "CARD.md").read_text(), key="kstance-model-card")
    except Exception:
        pass
    return {"temperature": meta["temperature"], "dev": (meta["metrics"]["dev"] or {}).get("macro_f1_3")}
