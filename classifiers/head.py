"""Stage two of the refit: the linear head over the adapted encoder's frozen features, its temperature, and the
figures the model card reports (classifiers.calibration orchestrates the refit)."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from classifiers.corpus import LABELS, Example
from classifiers.stance import StanceHead, softmax


def class_weights(labels: np.ndarray) -> torch.Tensor:
    """Inverse-frequency class weights: the rarer `none` and neutral items are not drowned by the others."""
    counts = np.bincount(labels, minlength=len(LABELS)).astype(float)
    return torch.tensor(counts.sum() / (len(LABELS) * np.maximum(counts, 1)), dtype=torch.float32)


def fit_head(features: np.ndarray, labels: np.ndarray, *, l2: float = 1e-3, seed: int = 0, iterations: int = 200
             ) -> StanceHead:
    """A linear head over frozen pooled features: multinomial logistic regression with class weights and an L2
    penalty, fitted full-batch by L-BFGS (deterministic for a seed)."""
    torch.manual_seed(seed)
    x = torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32))
    y = torch.from_numpy(np.asarray(labels, dtype=np.int64))
    weights = class_weights(labels)
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


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood of the out-of-fold predictions."""
    grid = np.exp(np.linspace(np.log(0.25), np.log(8.0), 161))
    nll = [(-np.log(softmax(logits / t)[np.arange(len(labels)), labels] + 1e-12)).mean() for t in grid]
    return float(grid[int(np.argmin(nll))])


# -- the figures ----------------------------------------------------------------------------------------------

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
