"""The calibrated classifier as shipped in seeds/model: contract, attribution, bad input."""
import json

import pytest

from classifiers.corpus import seed_articles
from classifiers.stance import STANCES, candidate_sentences


def test_artifact_records_what_it_was_fitted_on(model):
    meta = json.loads((__import__("pathlib").Path("seeds/model/model.json")).read_text())
    assert meta["base_fingerprint"] and meta["train"]["corpus_fingerprint"] and meta["temperature"] > 0
    assert meta["metrics"]["dev"]["n"] >= 300


def test_seed_articles_give_judgments_of_the_contract_shape(model):
    for doc in seed_articles():
        verdict = model.judge_text(doc["text"], "en")
        assert verdict.judgments, doc["id"]
        for j in verdict.judgments:
            d = j.as_dict()
            assert d["actor"] in {"US", "CN", "JP", "KP", "RU"} and d["stance"] in STANCES
            assert -1 <= d["score"] <= 1 and 0 <= d["confidence"] <= 1
            assert d["evidence"] and all(e in " ".join(doc["text"].split()) for e in d["evidence"])


def test_the_2025_seed_reads_cooperative_toward_the_us(model):
    doc = next(d for d in seed_articles() if d["id"].startswith("000"))
    us = {j.actor: j for j in model.judge_text(doc["text"], "en").judgments}["US"]
    assert us.stance == "cooperative" and us.score > 0.3


def test_clear_stances_in_both_directions(model):
    coop = model.judge_text("President Lee Jae-myung said on Monday that Seoul would resume shuttle diplomacy with "
                            "Tokyo and praised Japan as an indispensable partner.").judgments
    conf = model.judge_text("The foreign ministry summoned the Japanese ambassador and lodged a strong protest "
                            "against Tokyo's renewed claim to the Dokdo islets.").judgments
    assert [(j.actor, j.stance) for j in coop] == [("JP", "cooperative")]
    assert [(j.actor, j.stance) for j in conf] == [("JP", "confrontational")]


def test_an_actor_only_mentioned_gets_no_judgment(model):
    text = ("North Korea fired two short-range ballistic missiles into the East Sea on Tuesday, its third launch this "
            "month. The missiles flew about 600 kilometres, Japanese officials said.")
    verdict = model.judge_text(text, "en")
    assert verdict.judgments == [] and verdict.reason


def test_candidates_need_a_seoul_voice_nearby():
    text = ("Beijing warned against the deployment. The foreign ministry said Seoul would proceed. "
            "It added that Beijing had been informed.")
    pairs = candidate_sentences(text)
    assert ("Beijing warned against the deployment.", "CN") not in pairs
    assert ("It added that Beijing had been informed.", "CN") in pairs


def test_bad_input_gives_no_judgment_and_a_reason_never_a_crash(model):
    cases = {
        "": "empty text",
        "\x00\x01\x02\xff" * 500: "not text",
        "La cancillería surcoreana condenó el lanzamiento de Corea del Norte.": "language",
    }
    for text, reason in cases.items():
        lang = "es" if "cancillería" in text else None
        v = model.judge_text(text, lang)
        assert v.judgments == [] and reason in v.reason
    big = ("Seoul said it would expand cooperation with Washington on supply chains. " * 20000)[:1_000_000]
    v = model.judge_text(big, "en")  # 1 MB: judged on its beginning, in bounded time
    assert v.judgments and v.judgments[0].actor == "US"
    mixed = "Seoul said 北 and 日本 and Россия — ミサイル 🚀 " * 50
    assert model.judge_text(mixed).judgments is not None


def test_a_sentence_repeated_through_a_batch_is_encoded_once(model, monkeypatch):
    encoded: list[int] = []
    original = model.encoder_features

    def counting(queries, texts):
        encoded.append(len(texts))
        return original(queries, texts)

    monkeypatch.setattr(model, "encoder_features", counting)
    line = "Seoul said it would expand cooperation with Washington on supply chains. "
    once = "The foreign ministry lodged a strong protest with Tokyo over the textbook."
    verdicts = model.judge_texts([line * 300, line * 2 + once, once])
    assert encoded == [2]  # 303 candidate pairs, two of them different
    assert [sorted(j.actor for j in v.judgments) for v in verdicts] == [["US"], ["JP", "US"], ["JP"]]
    alone = model.judge_texts([line])[0].judgments[0]
    # (the same up to float noise: padding in a batch of two pairs instead of one)
    assert verdicts[0].judgments[0].stance == alone.stance
    assert verdicts[0].judgments[0].confidence == pytest.approx(alone.confidence, abs=1e-4)


def test_a_korean_article_is_judged_with_its_evidence(model):
    text = ("(서울=연합뉴스) 북한이 29일 동해상으로 탄도미사일 2발을 발사했다고 합동참모본부가 밝혔다.\n\n"
            "정부는 이날 국가안전보장회의(NSC) 상임위원회를 열고 북한의 탄도미사일 발사를 강력히 규탄했다.\n\n"
            "외교부 대변인은 \"북한의 도발에는 단호히 대응할 것\"이라고 말했다.")
    verdict = model.judge_text(text, "ko")
    kp = {j.actor: j for j in verdict.judgments}["KP"]
    assert kp.stance == "confrontational" and kp.score < -0.3
    assert any("규탄" in e or "단호히" in e for e in kp.evidence)
    assert all(e in text for e in kp.evidence)


def test_korean_cooperation_reads_cooperative(model):
    text = ("이재명 대통령은 15일 광복절 경축사에서 \"일본은 함께 미래를 열어갈 중요한 이웃\"이라며 "
            "한일 셔틀외교를 이어가고 협력을 확대하겠다고 말했다.")
    jp = {j.actor: j for j in model.judge_text(text, "ko").judgments}["JP"]
    assert jp.stance == "cooperative"


def test_another_governments_words_about_seoul_give_no_korean_judgment(model):
    text = ("중국 외교부 대변인은 30일 정례 브리핑에서 한국 정부가 사드 배치를 즉각 중단해야 한다고 주장했다. "
            "조선중앙통신은 남측 당국을 강하게 비난했다.")
    assert model.judge_text(text, "ko").judgments == []


def test_votes_both_ways_give_the_larger_share_at_its_own_confidence():
    """A decisive cooperative sentence and a slightly weaker confrontational one: the verdict is the larger share,
    stated about as confident as that share (the mixed-line rule it replaced said `neutral` at 0.97 here, and such
    verdicts were right half the time on the article corpus)."""
    import numpy as np

    from classifiers.stance import Candidate, aggregate

    items = [(Candidate(0, "Seoul welcomed the talks.", "KP"), np.array([0.80, 0.10, 0.05, 0.05])),
             (Candidate(0, "Seoul condemned the launch.", "KP"), np.array([0.05, 0.10, 0.75, 0.10]))]
    (j,) = aggregate(items)
    assert j.stance == "cooperative"
    assert 0.4 < j.confidence < 0.5
    assert j.evidence[0] == "Seoul welcomed the talks."
