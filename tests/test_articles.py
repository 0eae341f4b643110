"""The real-style article corpus as training material and yardstick: month folds, sentence pairs from evidence,
article-level scoring as the owners measure it, and the stage-two head."""
import numpy as np
import pytest

from classifiers.articles import LabelledArticle, month_folds, read_articles, score, sentence_examples
from classifiers.corpus import LABELS
from classifiers.head import fit_head, head_logits


def article(aid, date, labels, evidence=None, language="en"):
    return LabelledArticle(aid, date, language, "t", "x", labels, evidence or {})


def test_the_copied_corpus_is_complete_in_both_languages():
    arts = read_articles()
    assert len(arts) == 165
    assert sum(a.language == "ko" for a in arts) == 36
    assert all(set(a.labels) <= {"US", "CN", "JP", "KP", "RU"} for a in arts)


def test_month_folds_keep_a_month_on_one_side_and_spread_the_years():
    arts = read_articles()
    folds = month_folds(arts, 5, seed=1)
    by_month = {}
    for a, f in zip(arts, folds):
        by_month.setdefault(a.month, set()).add(f)
    assert all(len(fs) == 1 for fs in by_month.values())
    for k in range(5):
        years = {a.date[:4] for a, f in zip(arts, folds) if f == k}
        assert len(years) >= 5  # every fold spans the decade, not one era
    assert month_folds(arts, 5, seed=1) == folds  # deterministic


def test_sentence_pairs_come_from_evidence_and_from_candidates_of_none_targets():
    arts = [article("a1", "2019-07-01", {"JP": "confrontational", "US": "none"},
                    {"JP": ["Seoul protested Tokyo's export curbs."]})]
    cands = {"a1": [("Seoul protested Tokyo's export curbs.", "JP"), ("Washington watched.", "US")]}
    ex = sentence_examples(arts, cands)
    assert [(e.text, e.actor, e.stance) for e in ex] == [
        ("Seoul protested Tokyo's export curbs.", "JP", "confrontational"), ("Washington watched.", "US", "none")]
    assert all(e.group == "article:a1" for e in ex)  # an article's pairs stay in its fold


def test_scores_count_no_judgment_as_a_miss_and_none_as_right_when_silent():
    arts = [article("a", "2020-01-01", {"US": "cooperative", "KP": "confrontational", "CN": "none", "JP": "neutral"}),
            article("b", "2020-02-01", {"US": "cooperative", "RU": "none"})]
    pred = {"a": {"US": "cooperative", "KP": "cooperative", "JP": "neutral"}, "b": {"RU": "confrontational"}}
    m = score(arts, pred)
    assert m["accuracy_3"] == pytest.approx(2 / 4)
    assert m["stance_unjudged"] == pytest.approx(1 / 4)
    assert m["none_unjudged"] == pytest.approx(1 / 2)
    assert m["polarity_flips"] == 1
    # coop: tp 1, fp 1 (the KP flip), fn 1 (b's US unjudged) -> 0.5; conf: tp 0 -> 0
    assert m["macro_f1_coop_vs_conf"] == pytest.approx(0.25)


def test_the_stage_two_head_is_deterministic_and_separates_what_it_can():
    rng = np.random.default_rng(0)
    centers = rng.normal(0, 1, size=(len(LABELS), 16))
    y = rng.integers(0, len(LABELS), size=400)
    x = centers[y] + rng.normal(0, 0.3, size=(400, 16))
    h1, h2 = fit_head(x, y, seed=3), fit_head(x, y, seed=3)
    assert np.array_equal(head_logits(h1, x), head_logits(h2, x))
    assert (head_logits(h1, x).argmax(1) == y).mean() > 0.95


def test_evidence_only_verdicts_let_just_the_readers_sentences_vote():
    from classifiers.corpus_cv import evidence_only_verdicts

    arts = [article("a", "2020-01-05", {"JP": "confrontational", "US": "none"},
                    {"JP": ["Seoul protested.", "Seoul summoned the envoy."]}),
            article("b", "2020-02-05", {"KP": "cooperative"}, {"KP": ["Seoul offered talks."]})]
    examples = sentence_examples(arts, {"a": [("Seoul met Washington.", "US")]})
    probs = {"Seoul protested.": [0.1, 0.1, 0.8, 0.0], "Seoul summoned the envoy.": [0.2, 0.2, 0.6, 0.0],
             "Seoul offered talks.": [0.7, 0.2, 0.1, 0.0], "Seoul met Washington.": [0.9, 0.1, 0.0, 0.0]}
    predicted = evidence_only_verdicts(arts, examples, np.array([probs[e.text] for e in examples]))
    assert predicted["a"]["JP"]["stance"] == "confrontational" and predicted["b"]["KP"]["stance"] == "cooperative"
    assert "US" not in predicted["a"]  # a `none` target's candidate is not evidence: it casts no vote
