"""The labelled material the classifier is calibrated on: the calibration corpus, the dev split and
the annotated seed articles."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from classifiers.actors import ACTORS
from vocab.rules import stance_of

LABELS = ("cooperative", "neutral", "confrontational", "none")


@dataclass(frozen=True)
class Example:
    id: str
    text: str
    actor: str
    stance: str
    group: str | None = None
    speaker: str | None = None

    @property
    def label(self) -> int:
        return LABELS.index(self.stance)


def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


def seeds_dir() -> Path:
    return project_root() / "seeds"


def read_examples(path: Path) -> list[Example]:
    out = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            rec = json.loads(line)
            if rec["actor"] not in ACTORS or rec["stance"] not in LABELS:
                raise ValueError(f"{path.name}:{n}: bad actor or stance")
            out.append(Example(rec["id"], rec["text"], rec["actor"], rec["stance"], rec.get("group"),
                               rec.get("speaker")))
    return out


def training_examples(seeds: Path | None = None) -> list[Example]:
    """The calibration corpus (every calibration/train-*.jsonl) plus the annotated seed sentences."""
    seeds = seeds or seeds_dir()
    out: list[Example] = []
    for f in sorted((seeds / "calibration").glob("train-*.jsonl")):
        out += read_examples(f)
    out += seed_examples(seeds)
    return out


def dev_examples(seeds: Path | None = None) -> list[Example]:
    seeds = seeds or seeds_dir()
    path = seeds / "calibration" / "dev.jsonl"
    return read_examples(path) if path.exists() else []


def seed_examples(seeds: Path | None = None) -> list[Example]:
    seeds = seeds or seeds_dir()
    path = seeds / "articles" / "annotations.jsonl"
    out = []
    if path.exists():
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                r = json.loads(line)
                out.append(Example(f"seed-{r['doc'][:3]}-{n:03d}", r["sentence"], r["actor"], r["stance"],
                                   f"seed-{r['doc'][:3]}-s{hash_text(r['sentence'])[:8]}", r.get("speaker")))
    return out


def seed_articles(seeds: Path | None = None) -> list[dict]:
    """The seed documents with their metadata: {'id', 'title', 'outlet', 'published', 'text', ...}."""
    seeds = seeds or seeds_dir()
    out = []
    for txt in sorted((seeds / "articles").glob("*.txt")):
        meta_path = txt.with_suffix(".meta.json")
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
        out.append({**meta, "id": txt.stem, "text": txt.read_text(encoding="utf-8")})
    return out


def reference_profile(seeds: Path | None = None) -> dict[str, dict]:
    """Per actor, Seoul's reference stance read from the annotated seed sentences: the mean of
    +1/0/-1 over the annotations that carry a stance, and the label that mean falls in."""
    sums: dict[str, list[float]] = {a: [] for a in ACTORS}
    for ex in seed_examples(seeds):
        if ex.stance != "none":
            sums[ex.actor].append({"cooperative": 1.0, "neutral": 0.0, "confrontational": -1.0}[ex.stance])
    profile = {}
    for actor, vals in sums.items():
        score = sum(vals) / len(vals) if vals else 0.0
        stance = stance_of(score).value
        profile[actor] = {"stance": stance, "score": round(score, 3), "n": len(vals)}
    return profile


def hash_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def corpus_fingerprint(examples: list[Example]) -> str:
    h = hashlib.sha256()
    for ex in examples:
        h.update(f"{ex.id}\t{ex.actor}\t{ex.stance}\t{ex.text}\n".encode("utf-8"))
    return h.hexdigest()[:16]
