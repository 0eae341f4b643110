"""A start-up snapshot of the adapted encoder: the calibrated artifact's LoRA-merged transformer, traced once with
TorchScript and cached, so that a process that only judges loads it with torch alone.

Why: importing transformers' modeling code (BertModel pulls in torch._dynamo, torch.distributed.tensor, sympy and
scipy.optimize) and building the model cost about 9 s of CPU in every `kstance` process that judges, against about
1 s for this snapshot (BENCHMARKS.md, "Start-up"). The network, its weights and its outputs are the same: the trace
records the transformers model's own operations (tests/test_snapshot.py checks the outputs equal the transformers
model's to the bit on the dev pairs, in batches with and without padding, and the tokens equal the transformers
tokenizer's). The snapshot is a cache like the int8 ONNX export: training, calibration and the export itself use
the transformers model.

What is stored, per artifact and base encoder (folder `encoder-snapshot-<key>` in the cache folder, built whole or
not at all): the trace from input embeddings to the last hidden state (about 86 MB for multilingual-e5-small); the
word-embedding table is not copied (LoRA does not adapt it): it is read from the base encoder's own folder. The
tokenizer is the base folder's tokenizer.json, run by the `tokenizers` library with the settings encode_pairs gives
transformers' fast tokenizer. The key covers the artifact's files, the base weights' fingerprint, torch's version and
this module's format, so a recalibration, another encoder or another torch traces anew.

Only encoders this was checked on get a snapshot: BERT-like (embeddings.word_embeddings), a tokenizer.json, and a
tokenizer that gives no token type ids (multilingual-e5's). Any other encoder, or a snapshot that cannot be built
or read, falls back to the transformers model: the snapshot can make start-up faster, never change a judgment.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import warnings
from pathlib import Path
from types import SimpleNamespace

import torch
from torch import nn

from classifiers.cache_folder import build_in_place

SNAPSHOT_FORMAT = 1  # bump when what is traced or stored changes: older snapshots are then built anew
PREFIX = "encoder-snapshot-"
TRACE_FILE = "encoder.pt"
SOURCE_FILE = "source.json"  # written last: marks a complete snapshot
WORD_EMBEDDINGS = "embeddings.word_embeddings.weight"


def artifact_fingerprint(artifact_dir: Path) -> str:
    """A short hash of the calibrated artifact's files (its metadata and adapter)."""
    h = hashlib.sha256()
    for name in ("model.json", "adapter.safetensors"):
        h.update((Path(artifact_dir) / name).read_bytes())
    return h.hexdigest()[:16]


def folder(cache_dir: Path, artifact: str, encoder_fingerprint: str) -> Path:
    """The snapshot's folder for an artifact's fingerprint (artifact_fingerprint) on a base encoder, under this torch
    and this module's format."""
    text = json.dumps([artifact, encoder_fingerprint, torch.__version__, SNAPSHOT_FORMAT])
    return Path(cache_dir) / f"{PREFIX}{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def supported(model_dir: Path) -> bool:
    """Whether this encoder's folder is one the snapshot was checked on (see the module's docstring)."""
    model_dir = Path(model_dir)
    try:
        tok_config = json.loads((model_dir / "tokenizer_config.json").read_text())
        config = json.loads((model_dir / "config.json").read_text())
    except (OSError, ValueError):
        return False
    return ((model_dir / "tokenizer.json").is_file() and config.get("model_type") == "bert"
            and "token_type_ids" not in tok_config.get("model_input_names", ["token_type_ids"])
            and any(model_dir.glob("*.safetensors")))


# -- the tokenizer ---------------------------------------------------------------------------------------------------

class PairTokenizer:
    """The base folder's tokenizer.json run by `tokenizers`, called as encode_pairs calls transformers' fast tokenizer:
    (first segments, second segments), truncating the second to `max_length` tokens in all, padded to the longest."""

    def __init__(self, model_dir: Path, max_length: int):
        from tokenizers import Tokenizer

        tok_config = json.loads((Path(model_dir) / "tokenizer_config.json").read_text())
        self._tok = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
        pad_token = tok_config.get("pad_token", "<pad>")
        pad_token = pad_token["content"] if isinstance(pad_token, dict) else pad_token
        pad_id = self._tok.token_to_id(pad_token)
        if pad_id is None:
            raise ValueError(f"the tokenizer has no padding token {pad_token!r}")
        self.max_length = max_length
        self._tok.enable_truncation(max_length=max_length, strategy="only_second")
        self._tok.enable_padding(pad_id=pad_id, pad_token=pad_token)
        self.model_input_names = ["input_ids", "attention_mask"]

    def __call__(self, first, second, *, padding=True, truncation="only_second", max_length=None,
                 return_tensors=None):
        if truncation != "only_second" or (max_length or self.max_length) != self.max_length:
            raise ValueError("this tokenizer truncates only the second segment, to its own max_length")
        single = isinstance(first, str)
        pairs = [(first, second)] if single else list(zip(first, second))
        encodings = self._tok.encode_batch(pairs, add_special_tokens=True)
        ids = [e.ids for e in encodings]
        mask = [e.attention_mask for e in encodings]
        if return_tensors == "pt":
            return {"input_ids": torch.tensor(ids, dtype=torch.long),
                    "attention_mask": torch.tensor(mask, dtype=torch.long)}
        if single:
            return {"input_ids": ids[0], "attention_mask": mask[0]}
        return {"input_ids": ids, "attention_mask": mask}


# -- the encoder -----------------------------------------------------------------------------------------------------

class _FromEmbeddings(nn.Module):
    """What is traced: the encoder from input embeddings (the word-embedding lookup is done outside)."""

    def __init__(self, encoder: nn.Module):
        super().__init__()
        self.encoder = encoder

    def forward(self, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.encoder(inputs_embeds=inputs_embeds, attention_mask=attention_mask).last_hidden_state


class SnapshotEncoder:
    """Called like the transformers encoder (input_ids, attention_mask) -> an object with last_hidden_state."""

    def __init__(self, traced, word_embeddings: torch.Tensor, config: dict):
        self.traced = traced
        self.word_embeddings = word_embeddings
        self.config = SimpleNamespace(**config)

    def eval(self) -> "SnapshotEncoder":
        return self

    def __call__(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **_) -> SimpleNamespace:
        embeds = nn.functional.embedding(input_ids, self.word_embeddings)
        return SimpleNamespace(last_hidden_state=self.traced(embeds, attention_mask))


def trace(encoder: nn.Module, tokenizer, path: Path) -> None:
    """Trace the (merged) transformers encoder from input embeddings and save it at `path`, without its
    word-embedding table (swapped for a one-row stand-in while tracing, then put back)."""
    from classifiers.encoder import encode_pairs

    # two pairs of different lengths, padded: the traced graph must not fix the batch, the length or the padding
    texts = ["Seoul protested.", "Seoul and Pyongyang agreed to resume talks at the border village."]
    enc = encode_pairs(tokenizer, ["Japan", "North Korea"], texts, [0, 1])
    embedding = encoder.get_input_embeddings()
    with torch.inference_mode():
        embeds = embedding(enc["input_ids"])
    encoder.set_input_embeddings(nn.Embedding(1, embedding.embedding_dim))
    try:
        with warnings.catch_warnings(), torch.inference_mode():
            # deprecation notices of torch.jit and transformers, and the tracer's note on Python booleans (the mask
            # checks it refers to are skipped while tracing; the outputs are checked equal in tests/test_snapshot.py)
            warnings.simplefilter("ignore")
            traced = torch.jit.trace(_FromEmbeddings(encoder).eval(), (embeds, enc["attention_mask"]),
                                     check_trace=False)
            torch.jit.save(traced, str(path))
    finally:
        encoder.set_input_embeddings(embedding)


def _word_embeddings(model_dir: Path) -> torch.Tensor:
    from safetensors import safe_open

    for f in sorted(Path(model_dir).glob("*.safetensors")):
        with safe_open(str(f), framework="pt") as fh:
            names = set(fh.keys())
            for name in (WORD_EMBEDDINGS, f"bert.{WORD_EMBEDDINGS}"):
                if name in names:
                    return fh.get_tensor(name)
    raise KeyError(f"no {WORD_EMBEDDINGS} in {model_dir}")


def _ready(f: Path) -> bool:
    try:
        meta = json.loads((f / SOURCE_FILE).read_text())
        return (f / TRACE_FILE).stat().st_size == meta["trace_bytes"]
    except (OSError, ValueError, KeyError, TypeError):
        return False


def save(encoder: nn.Module, tokenizer, model_dir: Path, artifact_dir: Path, encoder_fingerprint: str,
         cache_dir: Path) -> Path:
    """Build the snapshot of an artifact loaded with transformers (under a file lock; a complete folder or none).
    A process (or thread) that finds another one building it does not wait (filelock.Timeout): it has its model
    already."""
    artifact = artifact_fingerprint(artifact_dir)
    target = folder(cache_dir, artifact, encoder_fingerprint)

    def build(dest: Path) -> None:
        dest.mkdir(parents=True)
        trace(encoder, tokenizer, dest / TRACE_FILE)
        (dest / SOURCE_FILE).write_text(json.dumps({
            "artifact": str(Path(artifact_dir).resolve()), "artifact_fingerprint": artifact,
            "base": str(Path(model_dir).resolve()),
            "encoder_fingerprint": encoder_fingerprint, "torch": torch.__version__, "format": SNAPSHOT_FORMAT,
            "trace_bytes": (dest / TRACE_FILE).stat().st_size}))

    build_in_place(target, ready=_ready, build=build, prefix=f".{PREFIX}", wait=False)
    _prune_older(Path(cache_dir), artifact_dir, artifact, keep=target)
    return target


def load(model_dir: Path, artifact_dir: Path, encoder_fingerprint: str, cache_dir: Path, max_length: int
         ) -> tuple[PairTokenizer, SnapshotEncoder] | None:
    """The tokenizer and encoder from a complete snapshot, or None (no snapshot yet, or one that cannot be read: it
    is removed, and the caller loads the transformers model and builds it again)."""
    target = folder(cache_dir, artifact_fingerprint(artifact_dir), encoder_fingerprint)
    if not _ready(target):
        return None
    try:
        traced = torch.jit.load(str(target / TRACE_FILE), map_location="cpu").eval()
        config = json.loads((Path(model_dir) / "config.json").read_text())
        return PairTokenizer(model_dir, max_length), SnapshotEncoder(traced, _word_embeddings(model_dir), config)
    except Exception:  # a damaged file, or one this torch cannot read: the transformers model is the fallback
        shutil.rmtree(target, ignore_errors=True)
        return None


def _prune_older(cache_dir: Path, artifact_dir: Path, current: str, keep: Path) -> None:
    """Snapshots of an earlier calibration of the artifact at this same path (whose fingerprint is not `current`) are
    never loaded again: remove them (those of this calibration on another encoder or torch stay)."""
    here = str(Path(artifact_dir).resolve())
    for f in cache_dir.glob(f"{PREFIX}*"):
        if f == keep or not f.is_dir():
            continue
        try:
            meta = json.loads((f / SOURCE_FILE).read_text())
            older = meta.get("artifact") == here and meta.get("artifact_fingerprint") != current
        except (OSError, ValueError, AttributeError):
            continue
        if older:
            shutil.rmtree(f, ignore_errors=True)
