"""Stage two measured honestly: cross-validation grouped by month over the real-style article corpus, each fold's
articles judged through the whole article path by a head fitted without them (classifiers.calibration)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from classifiers.corpus import LABELS, Example
from classifiers.head import evaluate, fit_head, fit_temperature, head_logits
from classifiers.stance import StanceModel, softmax
from classifiers.training import Progress


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
    verdicts: list = field(default_factory=list)  # the out-of-fold ArticleVerdicts, evidence included
    sentence_probs: np.ndarray | None = None  # out-of-fold calibrated probabilities of the corpus sentence pairs


def article_cross_validation(model: StanceModel, written: list[Example], written_features: np.ndarray,
                             articles: list, *, folds: int = 5, seed: int = 20250526, l2: float = 1e-3,
                             progress: Progress | None = None) -> tuple[CorpusFit, list[Example], np.ndarray]:
    """Stage two, measured honestly: for each fold of months, a head fitted on the written pairs plus the corpus
    sentences of the other months judges this fold's articles through the whole article path (sentence
    selection, calibrated probabilities, aggregation). Returns the fit and the corpus sentence pairs with
    their features (the shipped head trains on all of them)."""
    from classifiers.articles import month_folds, sentence_examples
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
    sentence_metrics = evaluate(softmax(oof / temperature), corpus_gold)
    fit = CorpusFit(article_metrics(articles, predicted), temperature, predicted, sentence_metrics, candidates,
                    cand_probs, verdicts, softmax(oof / temperature))
    return fit, corpus_examples, corpus_features


def evidence_only_verdicts(articles: list, corpus_examples: list[Example], probs: np.ndarray) -> dict:
    """A diagnostic: the article verdicts the same aggregation gives when only the readers' evidence sentences vote
    (a perfect sentence selection), from their out-of-fold probabilities. Returns `predicted` as above."""
    from classifiers.stance import ArticleVerdict, Candidate, conclude

    index = {a.id: i for i, a in enumerate(articles)}
    chosen = [(Candidate(index[e.group.split(":", 1)[1]], e.text, e.actor), p)
              for e, p in zip(corpus_examples, probs) if e.label != LABELS.index("none")]
    verdicts = conclude([ArticleVerdict() for _ in articles], [c for c, _ in chosen],
                        np.array([p for _, p in chosen]) if chosen else None)
    return {a.id: {j.actor: {"stance": j.stance, "score": round(j.score, 4), "confidence": round(j.confidence, 4)}
                   for j in v.judgments} for a, v in zip(articles, verdicts)}


def article_metrics(articles: list, predicted: dict[str, dict[str, dict]]) -> dict:
    """The article verdicts' figures, for all articles and per language (with their reliability), and per target."""
    from classifiers.articles import score, score_per_target

    flat = {aid: {t: j["stance"] for t, j in d.items()} for aid, d in predicted.items()}
    metrics = {}
    for name, subset in (("all", articles), ("en", [a for a in articles if a.language == "en"]),
                         ("ko", [a for a in articles if a.language == "ko"])):
        if subset:
            metrics[name] = score(subset, flat)
            metrics[name]["reliability"] = article_reliability(subset, predicted)
    metrics["per_target"] = score_per_target(articles, flat)
    return metrics


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
