from classifiers.actors import actors_in, has_seoul_voice
from classifiers.relevance import relevance
from classifiers.sentences import split_sentences


def test_aliases_across_names_capitals_leaders_and_korean():
    assert actors_in("Washington and Tokyo welcomed the move, while Beijing and the Kremlin stayed silent.") == ["US", "JP", "CN", "RU"]
    assert actors_in("Kim Jong-un inspected the site as the North fired two missiles.") == ["KP"]
    assert actors_in("정부는 북한과 일본, 러시아에 대한 입장을 밝혔다.") == ["KP", "JP", "RU"]
    assert actors_in("The northern provinces saw heavy rain and the U.S. dollar rose.") == ["US"]


def test_seoul_voice():
    assert has_seoul_voice("The foreign ministry summoned the Japanese ambassador.")
    assert has_seoul_voice("President Lee Jae-myung told reporters he would visit Beijing.")
    assert not has_seoul_voice("North Korea fired two ballistic missiles into the East Sea on Tuesday.")


def test_sentences_respect_wire_abbreviations():
    text = "The U.S. and S. Korea agreed on Jan. 5 to hold drills. Seoul said it would inform Pyongyang. 정부는 밝혔다. 다음 문장."
    assert split_sentences(text) == ["The U.S. and S. Korea agreed on Jan. 5 to hold drills.",
                                     "Seoul said it would inform Pyongyang.", "정부는 밝혔다.", "다음 문장."]


def test_relevance_keeps_foreign_policy_and_says_why_it_skips():
    assert relevance("Seoul protests Tokyo's claim", "South Korea protested Japan's claim to Dokdo.") == (True, None)
    ok, why = relevance("Seoul shares rise", "Seoul shares closed higher on chip earnings.")
    assert not ok and "names none of the followed actors" in why
    ok, why = relevance("Tokyo and Beijing talk", "Japan and China held talks on fisheries.")
    assert not ok and "South Korea" in why
