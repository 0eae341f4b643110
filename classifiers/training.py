"""Stage one of the refit: LoRA fine-tuning of the encoder's top layers, with a head, as a pair classifier on the
written calibration pairs (classifiers.calibration orchestrates the refit)."""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn

from classifiers.corpus import Example
from classifiers.encoder import (
    add_lora,
    encode_pairs,
    encoder_layers,
    fresh_model,
    length_sorted_batches,
    lower_states,
    mean_pool,
    upper_forward,
)
from classifiers.head import class_weights
from classifiers.stance import StanceHead, pair_inputs

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
    # a frozen second encoder whose features join the adapted encoder's in the stage-two head (None: e5's alone)
    companion: str | None = "use-m3"
    limit: int | None = None  # train on the first N examples only (tests)


Progress = Callable[[str, int, int], None]


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def first_adapted(encoder: nn.Module, cfg: TrainConfig) -> int:
    n_layers = len(encoder_layers(encoder))
    return max(0, n_layers - cfg.adapt_layers) if cfg.adapt_layers else 0


@dataclass
class _Batches:
    """The training batches, tokenised once, with the frozen layers' output for each (when layers are frozen)."""
    encoder: nn.Module
    first: int  # the first adapted layer (0: every layer is adapted, nothing is cached)
    batches: list
    encoded: list[dict]
    lower: dict

    def hidden(self, b: int) -> torch.Tensor:
        """The last hidden state of batch b: the adapted layers over the cached states, or the whole encoder."""
        if self.first:
            return upper_forward(self.encoder, self.first, *self.lower[b])
        return self.encoder(**self.encoded[b]).last_hidden_state


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
    batches = length_sorted_batches([len(t) for t in texts], cfg.batch_size)
    encoded = [encode_pairs(tokenizer, queries, texts, idx) for idx in batches]
    data = _Batches(encoder, first, batches, encoded, _frozen_states(encoder, first, encoded, progress, tag))
    _run_epochs(data, head, labels, lora_params, opt, cfg, progress, tag)
    encoder.eval()
    head.eval()
    if not features:
        return tokenizer, encoder, head
    return tokenizer, encoder, head, _pooled_features(data, len(examples))


def _frozen_states(encoder: nn.Module, first: int, encoded: list[dict], progress: Progress | None, tag: str) -> dict:
    """The states entering the first adapted layer, per batch: computed once, reused in every epoch."""
    lower = {}
    if first:
        encoder.eval()
        for b, enc in enumerate(encoded):
            lower[b] = lower_states(encoder, first, enc)
            if progress:
                progress(f"{tag}: frozen layers", b + 1, len(encoded))
    return lower


def _run_epochs(data: _Batches, head: StanceHead, labels: torch.Tensor, lora_params: list, opt, cfg: TrainConfig,
                progress: Progress | None, tag: str) -> None:
    """The epochs: length-bucketed batches in a seeded random order, a class-weighted loss (the rarer `none` and
    neutral items are not drowned by the others), warm-up then linear decay of the learning rate."""
    weights = class_weights(labels.numpy())
    rng = random.Random(cfg.seed)
    total_steps = cfg.epochs * len(data.batches)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / max(1, total_steps // 10))
                                              * max(0.0, (total_steps - s) / total_steps))
    step = 0
    data.encoder.train()
    head.train()
    for _epoch in range(cfg.epochs):
        order = list(range(len(data.batches)))
        rng.shuffle(order)  # length-bucketed batches, in random order
        for b in order:
            pooled = mean_pool(data.hidden(b), data.encoded[b]["attention_mask"])
            loss = nn.functional.cross_entropy(head(pooled), labels[data.batches[b]], weight=weights)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(lora_params, 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            if progress:
                progress(tag, step, total_steps)


def _pooled_features(data: _Batches, n: int) -> np.ndarray:
    """The adapted encoder's mean-pooled features of the n examples, from the cached states."""
    pooled = np.zeros((n, data.encoder.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for b, idx in enumerate(data.batches):
            pooled[idx] = mean_pool(data.hidden(b), data.encoded[b]["attention_mask"]).numpy()
    return pooled
