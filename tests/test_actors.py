from classifiers.actors import actors_in, has_seoul_voice
from classifiers.relevance import relevance
from classifiers.sentences import split_sentences


def test_aliases_across_names_capitals_leaders_and_korean():
    assert actors_in("Washington and Tokyo welcomed the move, while Beijing and the Kremlin stayed silent.") == [
        "US",
        "JP",
        "CN",
        "RU",
    ]
    assert actors_in("Kim Jong-un inspected the site as the North fired two missiles.") == ["KP"]
    assert actors_in("정부는 북한과 일본, 러시아에 대한 입장을 밝혔다.") == ["KP", "JP", "RU"]
    assert actors_in("The northern provinces saw heavy rain and the U.S. dollar rose.") == ["US"]


def test_seoul_voice_when_seoul_acts_or_speaks():
    for s in [
        "The foreign ministry summoned the Japanese ambassador.",
        "President Lee Jae-myung told reporters he would visit Beijing.",
        "SEOUL, April 19 (Yonhap) -- South Korea's top general and a visiting U.S. admiral agreed to strengthen "
        "deterrence.",
        "Seoul and Washington agreed to expand their drills.",
        "At Camp David, Yoon, Biden and Kishida voiced concern over China's behaviour.",
        "First Vice Foreign Minister Kim Hong-kyun summoned Russian Ambassador Georgy Zinoviev on Friday.",
        "\u201cWe will respond sternly,\u201d the Joint Chiefs of Staff said in a statement.",
    ]:
        assert has_seoul_voice(s), s


def test_no_seoul_voice_when_seoul_is_an_object_a_place_or_a_modifier():
    for s in [
        "North Korea fired two ballistic missiles into the East Sea on Tuesday.",
        "Beijing's tourism authorities told travel agencies to stop selling group tours to South Korea.",
        "China's foreign ministry said South Korea would have to bear the consequences of hosting THAAD.",
        "Wang Yi told Foreign Minister Park Jin that Beijing expected Seoul to honour the three noes.",
        "North Korean leader Kim Jong Un called the South Korea-U.S. exercises reckless provocations.",
        "Opposition lawmakers accused Beijing of humiliating the country.",
        "South Korea's exports to China rose 5 percent in March.",
        "The drills in waters off South Korea's southern island of Jeju involved a U.S. aircraft carrier.",
    ]:
        assert not has_seoul_voice(s), s


def test_attribution_against_the_corpus_speaker_labels():
    from classifiers.corpus import dev_examples

    dev = dev_examples()
    tp = sum(e.speaker == "seoul" and has_seoul_voice(e.text) for e in dev)
    fp = sum(e.speaker != "seoul" and has_seoul_voice(e.text) for e in dev)
    fn = sum(e.speaker == "seoul" and not has_seoul_voice(e.text) for e in dev)
    assert tp / (tp + fp) >= 0.95 and tp / (tp + fn) >= 0.93  # measured: 0.992 and 0.941


def test_sentences_respect_wire_abbreviations():
    text = ("The U.S. and S. Korea agreed on Jan. 5 to hold drills. Seoul said it would inform Pyongyang. "
            "정부는 밝혔다. 다음 문장.")
    assert split_sentences(text) == ["The U.S. and S. Korea agreed on Jan. 5 to hold drills.",
                                     "Seoul said it would inform Pyongyang.", "정부는 밝혔다.", "다음 문장."]


def test_relevance_keeps_foreign_policy_and_says_why_it_skips():
    assert relevance("Seoul protests Tokyo's claim", "South Korea protested Japan's claim to Dokdo.") == (True, None)
    ok, why = relevance("Seoul shares rise", "Seoul shares closed higher on chip earnings.")
    assert not ok and "names none of the followed actors" in why
    ok, why = relevance("Tokyo and Beijing talk", "Japan and China held talks on fisheries.")
    assert not ok and "South Korea" in why
