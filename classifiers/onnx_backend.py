"""The encoder on ONNX Runtime with int8 dynamic quantisation: the same classifier, a faster forward pass.

The adapted (LoRA-merged) encoder is exported once per artifact and cached under the given folder, keyed by the
artifact's fingerprint and the quantisation plan's (which MatMuls stay fp32, the weights' range), so every later
process loads the quantised file directly and a changed plan exports anew.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from classifiers.cache_folder import build_in_place
from classifiers.encoder import encode_pairs, length_sorted_batches
from classifiers.snapshot import artifact_fingerprint
from classifiers.stance import StanceModel


class _KeywordEncoder(nn.Module):
    """BertModel's forward rejects the positional form the exporter uses; call it with keywords. The inputs are
    those the tokenizer produces: MiniLM's gives token_type_ids, XLM-R's (multilingual-e5) does not, and the model
    then uses its default (type 0), as it does in PyTorch."""

    def __init__(self, encoder: nn.Module, input_names: list[str]):
        super().__init__()
        self.encoder = encoder
        self.input_names = list(input_names)

    def forward(self, *inputs):
        return self.encoder(**dict(zip(self.input_names, inputs))).last_hidden_state


def export_key(artifact_dir: Path, plan: QuantPlan, encoder: str = "") -> str:
    """The cache folder of an artifact's int8 encoder: the artifact's fingerprint, the quantisation plan's and the
    fingerprint of the base encoder it was loaded on, so that neither a new artifact, a changed plan (nodes kept in
    fp32, weight range) nor another encoder under the same artifact (KSTANCE_MODEL) loads an old file."""
    key = f"{artifact_fingerprint(artifact_dir)}-{plan.key()}"
    return f"{key}-{encoder[:12]}" if encoder else key


@dataclass(frozen=True)
class QuantPlan:
    """How an encoder is quantised: the weight MatMuls kept in fp32 (node-name suffixes) and whether the int8 weights
    use 7 bits (reduce_range, which ONNX Runtime advises on CPUs without VNNI: their u8 x s8 kernels add product pairs
    in saturating 16-bit integers, which 7-bit weights cannot overflow)."""
    name: str
    fp32_nodes: tuple[str, ...]
    reduce_range: bool
    per_channel: bool = True

    def key(self) -> str:
        """A short hash of the plan: part of the cache folder's name, so a changed plan re-exports."""
        text = json.dumps([QUANT_FORMAT, self.fp32_nodes, self.reduce_range, self.per_channel])
        return hashlib.sha256(text.encode()).hexdigest()[:8]


QUANT_FORMAT = 2  # bump when the export or quantisation changes in a way the plan does not show

# all-MiniLM-L6-v2, measured on the dev split (432 pairs). First artifact: plain int8 lost 0.022 of 3-stance
# macro-F1, per-channel int8 0.011. Later artifact: per-channel int8 with nothing kept in fp32 matched PyTorch's F1
# but its mean-pooled embeddings fell to cosine 0.945; keeping the feed-forward down-projections of the first three
# layers in fp32 gave cosine >= 0.983 and 3-stance macro-F1 within 0.005, for about 8% of the int8 speed.
MINILM_PLAN = QuantPlan("minilm", tuple(f"layer.{i}/output/dense/MatMul" for i in range(3)), reduce_range=False)

# multilingual-e5-small, measured with the shipped artifact against PyTorch on a 2-core AVX2 machine (no VNNI): cosine
# of mean-pooled embeddings over dev[:64] in one batch as tests/test_onnx.py does (and over all 432 dev pairs in 7
# batches of 64), argmax agreement and 3-stance macro-F1 difference on the 432 dev pairs at the backend's batch of 8:
#   all weight MatMuls int8 (per channel)          cos 0.955 (0.938), agreement 0.970, F1 -0.003
#   the MiniLM plan above                          cos 0.955,         agreement 0.951, F1 -0.016
#   7-bit weights, nothing in fp32                 cos 0.975 (0.951), agreement 0.972, F1 +0.002
#   7-bit, the 12 FFN down-projections fp32        cos 0.986 (0.984), agreement 0.977, F1 -0.005
#   7-bit, both FFN MatMuls of layers 0-5 fp32     cos 0.992 (0.990), agreement 0.984, F1 -0.008
#   7-bit, both FFN MatMuls of layers 0-7 fp32     cos 0.992 (0.992), agreement 0.988, F1 +0.003
#   7-bit, both FFN MatMuls of layers 0-9 fp32     cos 0.996 (0.994), agreement 0.995, F1 0.000   <- this plan
#   7-bit, both FFN MatMuls of all 12 layers fp32  cos 0.996 (0.995), agreement 0.995, F1 0.000
# With this plan, at batch sizes 4/8/16/32 the F1 difference stays within 0.0055 and agreement >= 0.986 (0.991 on 432
# training pairs). The inputs of both feed-forward MatMuls carry a few outlier channels (|x| 20-65 against 2-5
# elsewhere) that per-tensor dynamic activation quantisation cannot represent; the attention projections and the
# embedding table quantise well, and the last two layers' feed-forward MatMuls may stay int8 at no measured cost.
# Speed (500 dev pairs, 2 threads, median of 3): PyTorch 32-34 pairs/s, ONNX fp32 46-50, all-int8 67-71, this plan
# 53-56; the file is 154 MB (all-int8 118 MB, fp32 470 MB).
def ffn_plan(name: str, layers: int) -> QuantPlan:
    """7-bit int8 weights, both feed-forward MatMuls of the first `layers` layers in fp32."""
    return QuantPlan(name, tuple(f"layer.{i}/{part}/dense/MatMul" for i in range(layers)
                                 for part in ("intermediate", "output")), reduce_range=True)


E5_PLAN = ffn_plan("e5-small", 10)


def quant_plan(config) -> QuantPlan:
    """The plan for an encoder's config: MiniLM's for all-MiniLM-L6-v2 (6 layers, the 30,522-piece BERT vocabulary),
    e5's for multilingual-e5-small (12 layers) and, unmeasured, e5's rule (all but the last two layers' feed-forward
    MatMuls in fp32) for any other encoder."""
    layers = getattr(config, "num_hidden_layers", 12)
    if layers == 6 and getattr(config, "vocab_size", None) == 30522:
        return MINILM_PLAN
    if layers == 12:
        return E5_PLAN
    return ffn_plan(f"ffn-fp32-{layers - 2}", max(layers - 2, 0))


def export_fp32(model: StanceModel, path: Path) -> list[str]:
    """Export the merged encoder to ONNX (opset 17) at `path`; returns the input names (those the tokenizer gives)."""
    # two pairs of different lengths, padded: the traced graph must not fix the batch or the padding
    enc = encode_pairs(model.tokenizer, ["Japan", "North Korea"], ["Seoul protested.", "Seoul and Pyongyang agreed "
                                                                   "to resume talks at the border village."], [0, 1])
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in enc]
    with torch.inference_mode():
        torch.onnx.export(
            _KeywordEncoder(model.encoder, names).eval(),
            tuple(enc[n] for n in names),
            str(path), dynamo=False, opset_version=17,
            input_names=names, output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "tokens"} for n in names + ["last_hidden_state"]},
        )
    return names


def fp32_node_names(graph, plan: QuantPlan) -> list[str]:
    """The graph's MatMul nodes the plan keeps in fp32."""
    return [n.name for n in graph.node
            if n.op_type == "MatMul" and any(n.name.endswith("/" + s) for s in plan.fp32_nodes)]


def export_quantized(model: StanceModel, target: Path, plan: QuantPlan | None = None) -> Path:
    """Export the merged encoder to ONNX (opset 17) and quantise its weights to int8 (per channel), the MatMuls the
    plan names (by default the plan for this encoder, quant_plan) left in fp32."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    plan = plan or quant_plan(model.encoder.config)
    target.mkdir(parents=True, exist_ok=True)
    fp32, int8 = target / "encoder.fp32.onnx", target / "encoder.int8.onnx"
    export_fp32(model, fp32)
    keep = fp32_node_names(onnx.load(str(fp32), load_external_data=False).graph, plan)
    if len(keep) != len(plan.fp32_nodes):
        raise RuntimeError(f"the exported graph has {len(keep)} of the {len(plan.fp32_nodes)} MatMuls that the "
                           f"{plan.name} quantisation plan keeps in fp32")
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=plan.per_channel,
                     reduce_range=plan.reduce_range, nodes_to_exclude=keep)
    fp32.unlink()
    return int8


class OnnxStanceModel(StanceModel):
    """StanceModel whose encoder forward pass runs on ONNX Runtime; head and temperature are unchanged.

    One single-threaded session serves `workers` Python threads, each tokenising and running its own batch (ONNX
    Runtime releases the GIL and a session may run concurrently). Measured on 2 cores against one session with
    2 intra-op threads: 508 vs 419 pairs/s for the bare encoder at batch 8 (the single-thread kernels scale
    better than one matrix split over 2 threads, and tokenising overlaps the other thread's forward pass).
    """

    def __init__(self, base: StanceModel, onnx_path: Path, workers: int | None = None):
        super().__init__(base.tokenizer, base.encoder, base.head, base.temperature, base.meta)
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        self.onnx_path = Path(onnx_path)
        self.session = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.session.get_inputs()]  # what the export took from the tokenizer
        self.meta = {**base.meta, "backend": "onnx-int8"}
        self.encoder_fingerprint = base.encoder_fingerprint
        self.companion = base.companion
        self.model_dir, self.from_snapshot = base.model_dir, base.from_snapshot
        self.batch_size = 8  # with one batch per thread: 508/s at 8, 444/s at 16, 400/s at 32 on 2 cores
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_key = (0, 0)  # (process, size) the pool was made for

    def use_threads(self, n: int) -> None:
        self.workers = max(1, n)  # the next batch gets a pool of this size (executor)
        if self.companion is not None:
            self.companion.use_threads(n)

    def executor(self) -> ThreadPoolExecutor:
        # created lazily, and again after a fork: a pool's threads do not survive into a child process
        if self._pool is None or self._pool_key != (os.getpid(), self.workers):
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="kstance-onnx")
            self._pool_key = (os.getpid(), self.workers)
        return self._pool

    def _pooled(self, queries: list[str], texts: list[str], idx: list[int]) -> np.ndarray:
        enc = encode_pairs(self.tokenizer, queries, texts, idx)
        feeds = {k: enc[k].numpy() for k in self.input_names}
        hidden = self.session.run(None, feeds)[0]
        mask = feeds["attention_mask"][..., None].astype(np.float32)
        return (hidden * mask).sum(1) / np.maximum(mask.sum(1), 1.0)

    def encoder_features(self, queries: list[str], texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.encoder.config.hidden_size), dtype=np.float32)
        batches = list(length_sorted_batches([len(s) for s in texts], self.batch_size))
        if self.workers == 1 or len(batches) == 1:
            pooled = [self._pooled(queries, texts, idx) for idx in batches]
        else:
            pooled = list(self.executor().map(lambda idx: self._pooled(queries, texts, idx), batches))
        for idx, emb in zip(batches, pooled):
            out[idx] = emb
        return out


def load_onnx_model(artifact_dir: Path, model_spec: str | None, cache_dir: Path) -> OnnxStanceModel:
    artifact_dir = Path(artifact_dir)
    base = StanceModel.load(artifact_dir, model_spec)
    return OnnxStanceModel(base, cached_export(base, artifact_dir, Path(cache_dir)))


def cached_export(base: StanceModel, artifact_dir: Path, cache_dir: Path) -> Path:
    """The int8 encoder of an artifact, exported on first use. Safe when several processes ask at once and when one
    is killed half-way: the export runs under a file lock into a temporary folder that is renamed into place whole
    (its source.json, written last, marks it complete), so a reader never loads a half-written file."""
    plan = quant_plan(base.encoder.config)
    target = cache_dir / export_key(artifact_dir, plan, base.encoder_fingerprint)
    if not (target / "source.json").exists():
        def build(dest: Path) -> None:
            # the export traces the transformers model: a model loaded from its start-up snapshot is loaded again
            eager = StanceModel.load(artifact_dir, base.model_dir, snapshot=False) if base.from_snapshot else base
            export_quantized(eager, dest, plan)
            (dest / "source.json").write_text(json.dumps({"artifact": str(artifact_dir.resolve()), "plan": plan.name,
                                                          "fp32_nodes": list(plan.fp32_nodes),
                                                          "reduce_range": plan.reduce_range}))

        build_in_place(target, ready=lambda f: (f / "source.json").exists(), build=build, prefix=".export-")
        _prune_older_exports(cache_dir, artifact_dir, keep=target)
    return target / "encoder.int8.onnx"


def _prune_older_exports(cache_dir: Path, artifact_dir: Path, keep: Path) -> None:
    """Exports of an earlier calibration of the artifact at this same path are never loaded again: remove them
    (about 150 MB each). Exports of other artifacts, and of this one on another encoder or plan, stay."""
    here = str(Path(artifact_dir).resolve())
    current = keep.name.split("-", 1)[0]  # the artifact's fingerprint (export_key)
    for folder in cache_dir.iterdir():
        if folder.name.split("-", 1)[0] == current or not (folder / "source.json").is_file():
            continue
        try:
            same = json.loads((folder / "source.json").read_text()).get("artifact") == here
        except (OSError, ValueError, AttributeError):
            continue
        if same:
            shutil.rmtree(folder, ignore_errors=True)
