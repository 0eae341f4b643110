"""Speakers across an article, in English and Korean: which (sentence, actor) pairs are Seoul's words."""
from classifiers.actors import actors_in
from classifiers.sentences import split_sentences
from classifiers.speakers import candidate_sentences, language_of


def actors_of(pairs, fragment):
    return {a for s, a in pairs if fragment in s}


def test_korean_article_seoul_sentences_with_their_actors():
    text = ("(서울=연합뉴스) 홍길동 기자 = 외교부는 9일 주한중국대사관 총영사를 불러 유감과 항의의 뜻을 전하고, "
            "같은 일이 되풀이되지 않도록 중국 측이 노력해 달라고 촉구했다고 밝혔다.\n\n"
            "중국 외교부는 한국 정부에 냉정한 대응을 요구했다.\n\n"
            "국방부는 이어 “주한미군 사드 체계는 북한의 위협으로부터 대한민국을 지키기 위한 것이다. "
            "한미는 긴밀히 공조하고 있다”고 설명했다.\n\n"
            "홍길동 기자 hong@yna.co.kr")
    pairs = candidate_sentences(text)
    assert actors_of(pairs, "총영사를 불러") == {"CN"}
    assert actors_of(pairs, "중국 외교부는") == set()  # another government is the subject
    assert actors_of(pairs, "주한미군 사드 체계는") == {"US", "KP"}  # the quote stays inside its sentence
    assert language_of(text) == "ko"


def test_a_quote_three_sentences_after_its_named_speaker():
    text = ("Foreign Minister Park Jin spoke to reporters on Wednesday about the summit.\n\n"
            "The talks lasted two hours.\n\nThe venue was a hotel in central Seoul.\n\n"
            "\"Our position is that the dialogue with Tokyo must continue,\" he said.")
    assert actors_of(candidate_sentences(text), "Our position") == {"JP"}


def test_a_named_speaker_of_another_side_ends_the_chain():
    text = ("President Yoon Suk Yeol spoke at the ceremony.\n\n"
            "Chinese Foreign Ministry spokesperson Wang Wenbin answered questions on Thursday.\n\n"
            "\"Seoul should stop following Washington,\" he said.")
    assert actors_of(candidate_sentences(text), "stop following") == set()


def test_korean_pronoun_speaker_inherits_across_sentences():
    text = ("우 차관은 18일 브리핑에서 경제 상황을 설명했다.\n\n회견은 30분간 이어졌다.\n\n"
            "그는 “중국이 보복에 나설 것이라고 단정하는 것은 바람직하지 않다”고 말했다.")
    assert actors_of(candidate_sentences(text), "그는") == {"CN"}


def test_first_person_speech_is_seouls_in_english():
    text = ("President Lee Jae-myung delivers Liberation Day speech\n\n"
            "President Lee Jae-myung gave a speech on Friday marking Liberation Day.\n\n"
            "Japan is our neighbour with whom we share a future.\n\n"
            "We will respond sternly to any provocation by North Korea.")
    pairs = candidate_sentences(text)
    assert actors_of(pairs, "We will respond sternly") == {"KP"}
    assert actors_of(pairs, "our neighbour") == {"JP"}


def test_first_person_transcript_is_seouls_in_korean():
    text = ("[녹취] 대통령 기념사\n\n윤석열 대통령은 오늘 3·1절 기념사에서 한일 관계를 언급했습니다.\n\n"
            "[윤석열 / 대통령]\n\n일본은 이제 우리와 협력하는 파트너로 바뀌었습니다.\n\n"
            "북한의 도발에는 단호히 대응할 것입니다.")
    pairs = candidate_sentences(text)
    assert actors_of(pairs, "파트너로") == {"JP"}
    assert actors_of(pairs, "단호히 대응") == {"KP"}


def test_another_governments_words_about_seoul_give_no_candidate():
    en = ("China's foreign ministry said on Monday that South Korea would bear the consequences of hosting THAAD.\n\n"
          "Beijing urged Seoul to reverse the decision immediately.")
    ko = ("중국 외교부는 한국 정부에 사드 배치 결정을 철회하라고 요구했다.\n\n"
          "조선중앙통신은 남측이 미국에 굴종하고 있다고 비난했다.")
    assert candidate_sentences(en) == []
    assert candidate_sentences(ko) == []


def test_related_headline_lists_give_no_candidate():
    en = ("The foreign ministry welcomed the new visa rules on Tuesday.\n\n"
          "More in Diplomacy\n\nSouth Korean president sends congratulations to Trump\n\n"
          "Seoul condemns North Korea's ICBM launch")
    ko = ("외교부는 이날 브리핑을 열었다.\n\n"
          "☞ 정부, 中 반한 감정 확산에 우려 표명\n"
          "☞ 정부 “북한 도발 강력 규탄”…한미 공조 강화\n")
    assert candidate_sentences(en) == []
    assert candidate_sentences(ko) == []


def test_jung_as_during_or_middle_is_not_china():
    assert actors_in("정부는 회의 중 입장을 밝혔다.") == []
    assert actors_in("협상이 진행 중인 가운데 정부는 중간 점검을 했다.") == []
    assert actors_in("중부 지방과 동북아 정세, 북쪽 지역, 9일 정부 발표") == []
    assert actors_in("미·중 갈등 속에 한중 관계와 북·미 대화") == ["US", "CN", "KP"]


def test_korean_names_with_particles_and_compounds():
    assert actors_in("미국은 동맹이다") == ["US"]
    assert actors_in("러시아와 북한의 협력") == ["RU", "KP"]
    assert actors_in("한미일 정상은 북핵 위협에 공동 대응하기로 했다") == ["US", "JP", "KP"]
    assert actors_in("한·러 관계와 남북 관계") == ["RU", "KP"]
    assert actors_in("일본 측과 시진핑 주석, 푸틴 대통령") == ["JP", "CN", "RU"]


def test_korean_sentences_keep_quotes_and_drop_nothing():
    text = "외교부는 “깊은 유감이다. 즉각 철회하라”고 밝혔다. 정부는 “독도는 우리 땅이다.” 다음 문장입니다."
    assert split_sentences(text) == [
        "외교부는 “깊은 유감이다. 즉각 철회하라”고 밝혔다.",
        "정부는 “독도는 우리 땅이다.”",
        "다음 문장입니다.",
    ]


def test_language_of():
    assert language_of("The foreign ministry said.") == "en"
    assert language_of("정부는 북한의 도발을 강력히 규탄했다. (Yonhap)") == "ko"
    assert language_of("") is None


def test_korean_dropped_subject_and_briefing_answers_continue_seouls_line():
    text = ("문 대통령은 지난달 워싱턴에서 트럼프 대통령과 정상회담을 했다.\n\n"
            "아베 신조 일본 총리와는 독일에서 만나 셔틀 외교를 되살리기로 합의했다.")
    assert actors_of(candidate_sentences(text), "셔틀 외교") == {"JP"}
    briefing = ("대변인 정례브리핑\n\n<질문> 일본이 올해도 ‘다케시마의 날’ 행사를 연다는데 외교부 입장이 있습니까?\n\n"
                "<답변> 독도는 역사적·지리적·국제법적으로 분명한 우리 고유의 영토입니다.")
    assert actors_of(candidate_sentences(briefing), "고유의 영토") == {"JP"}
    assert actors_of(candidate_sentences(briefing), "다케시마") == set()  # the reporter's question is no stance


def test_another_sides_quoted_we_in_a_seoul_speech_article_stays_theirs():
    text = ("President Yoon Suk Yeol gave a speech on Friday on relations with Moscow.\n\n"
            "Russian President Vladimir Putin said on Thursday that Seoul would regret arming Ukraine.\n\n"
            "\"We will respond to any such step against Russia,\" he said.")
    assert actors_of(candidate_sentences(text), "We will respond") == set()


def test_a_quote_closed_by_an_analyst_or_a_foreign_official_is_theirs():
    text = ("Foreign Minister Cho Tae-yul spoke to reporters on Monday.\n\n"
            "\"Seoul has to hold its ground against Beijing's pressure,\" said Shin Beom-chul, a researcher at a "
            "private institute in Seoul.\n\n"
            "\"Washington expects more from Seoul,\" Victor Hale, an analyst at a U.S. think tank, said.\n\n"
            "\"We will keep working closely with Tokyo,\" he said.")
    pairs = candidate_sentences(text)
    assert actors_of(pairs, "hold its ground") == set()
    assert actors_of(pairs, "expects more") == set()
    # the minister's line is not picked up again by the analysts' pronoun-free quotes
    assert actors_of(pairs, "working closely") == set()


def test_a_third_country_welcoming_a_seoul_pact_is_not_seoul_speaking():
    text = ("Washington welcomed the pact between Seoul and Tokyo in a statement issued by a spokesman, saying "
            "it would strengthen the allies' cooperation against North Korea.")
    assert candidate_sentences(text) == []
    joint = "Japanese Prime Minister Ishiba and South Korean President Lee agreed to expand exchanges with Japan."
    assert actors_of(candidate_sentences(joint), "agreed") == {"JP"}


def test_a_korean_minister_named_without_a_title_or_at_a_lines_end_speaks_for_seoul():
    untitled = ("South Korea's Kang Kyung-wha met her Chinese counterpart Wang Yi in Seoul on Thursday.\n\n"
                "Wang said the two countries were strategic partners.\n\n"
                "Kang thanked Wang and said she hoped to deepen cooperation with China on trade.")
    assert actors_of(candidate_sentences(untitled), "Kang thanked") == {"CN"}
    at_line_end = ("Beijing holds talks with ROK counterpart Cho Hyun\n\n"
                   "Chinese Foreign Minister Wang Yi met Cho Hyun in Beijing on Wednesday.\n\n"
                   "Cho noted that his government values better relations with China.")
    assert actors_of(candidate_sentences(at_line_end), "Cho noted") == {"CN"}


def test_a_three_part_name_under_an_untold_title_is_placed_for_its_later_bare_surname():
    text = ("President Yoon Suk Yeol spoke at a ceremony in Seoul on Thursday.\n\n"
            "North Korean leader Kim Jong Un did not respond.\n\n"
            "Yoon urged North Korea to return to talks without conditions.\n\n"
            "Kim rejected dialogue with the South.")
    from classifiers.attribution_en import people
    from classifiers.sides import OTHER, SEOUL

    assert people(text) == {"Yoon": SEOUL, "Kim": OTHER}
    pairs = candidate_sentences(text)
    assert actors_of(pairs, "Yoon urged") == {"KP"}
    assert actors_of(pairs, "Kim rejected") == set()


def test_a_meetings_venue_is_not_a_target_in_english_or_korean():
    en = ("President Lee Jae-myung met Japanese Prime Minister Ishiba for summit talks in China on Monday and "
          "called on Japan to keep the shuttle diplomacy going.")
    assert actors_of(candidate_sentences(en), "summit talks") == {"JP"}
    visit = "President Lee Jae-myung arrived in Beijing for a state visit and pledged closer ties with China."
    assert actors_of(candidate_sentences(visit), "state visit") == {"CN"}  # a visit's host is its counterpart
    ko = "이재명 대통령은 일본 오사카에서 열린 한중 정상회담에서 중국과의 교류 확대를 제안했다."
    assert actors_of(candidate_sentences(ko), "오사카") == {"CN"}


def test_a_joint_act_with_no_target_named_is_with_the_side_the_article_last_named():
    ko = ("외교부는 오늘 서울에서 제3차 해양협력대화를 열었다고 밝혔다.\n\n"
          "중국 측은 서해 구조물이 양식 시설이라고 설명했다.\n\n"
          "양측은 여러 급의 채널로 계속 소통하기로 했다.")
    assert actors_of(candidate_sentences(ko), "양측은") == {"CN"}
    en = ("Japan's foreign minister said Tokyo wanted stable ties.\n\n"
          "The two sides agreed to resume the shuttle diplomacy of their leaders.")
    assert actors_of(candidate_sentences(en), "two sides") == {"JP"}
    # a Seoul sentence naming its target is still judged for that target alone
    named = "외교부는 중국 측에 깊은 우려를 전달했다.\n\n양측은 소통을 이어가기로 했다."
    assert actors_of(candidate_sentences(named), "양측은") == {"CN"}


def test_a_role_word_owned_by_another_government_is_not_seoul_speaking():
    # invented: an official of another side introduced by a role any government has, then quoted
    text = ("Tokyo rejected the report on Friday.\n\n"
            "Hana Sato, spokesperson for Japan's Foreign Ministry, dismissed the reports at a briefing.\n\n"
            "\"We have no talks of any kind with Seoul on this matter,\" she said.\n\n"
            "Officials from China said the meeting never took place.")
    pairs = candidate_sentences(text)
    assert actors_of(pairs, "dismissed the reports") == set()
    assert actors_of(pairs, "no talks of any kind") == set()
    assert actors_of(pairs, "never took place") == set()
    # the same roles of Seoul's own ministries, or Seoul's envoy posted abroad, still speak for Seoul
    own = ("The spokesperson for the Foreign Ministry said Seoul regrets Japan's decision.\n\n"
           "The ambassador to Beijing said Seoul wants calm talks with China.")
    pairs = candidate_sentences(own)
    assert actors_of(pairs, "regrets") == {"JP"}
    assert actors_of(pairs, "calm talks") == {"CN"}


def test_a_participle_clause_after_a_comma_is_no_speaker():
    # invented: the clause's "Seoul" is the object of a worry, not someone who says or does anything
    text = ("The new bloc is seen as an effort to contain Russia, raising fears that Seoul's entry could provoke "
            "Moscow.")
    assert candidate_sentences(text) == []
    said = "\"We will not accept Russia's demands,\" a Foreign Ministry spokesperson said, citing the talks."
    assert actors_of(candidate_sentences(said), "demands") == {"RU"}


def test_a_bare_surname_of_another_governments_official_names_that_target():
    # invented: the counterpart is named once with title and country, then by surname only
    text = ("Chinese Foreign Minister Wang Yi arrived in Seoul on Tuesday for two days of talks.\n\n"
            "Foreign Minister Cho Hyun thanked Wang for coming and said she hoped to deepen cooperation.")
    assert actors_of(candidate_sentences(text), "thanked Wang") == {"CN"}
    # a surname the article gives to people of two sides names no one by itself
    both = ("Chinese Ambassador Li Wei met South Korean Vice Minister Li Jun on Monday.\n\n"
            "Foreign Minister Cho Hyun said Li had raised the issue.")
    assert actors_of(candidate_sentences(both), "raised the issue") == set()
    # a surname that is also an English word is not taken for the person: "He said" is a pronoun
    pronoun = ("Chinese Vice Premier He Lifeng met Foreign Minister Cho Hyun in Beijing.\n\n"
               "Cho told reporters that Seoul wants stable supply chains. He said Seoul also hopes to expand trade "
               "with Japan.")
    assert actors_of(candidate_sentences(pronoun), "expand trade") == {"JP"}


def test_seoul_speaking_of_the_two_governments_is_with_the_side_last_named():
    # invented: the counterpart is named only in the other side's sentence before
    text = ("Japan said it would hold the ceremony as planned.\n\n"
            "Seoul said it would stay away, citing differences between the two governments that remain unresolved.")
    assert actors_of(candidate_sentences(text), "stay away") == {"JP"}


def test_seoul_relaying_another_sides_message_is_not_seoul_speaking():
    # invented: a Seoul spokesperson passes on what the other side told Seoul
    relayed = ("A presidential spokesperson said Tokyo had informed Seoul that it would delay the release by a "
               "month.")
    assert candidate_sentences(relayed) == []
    # Seoul telling the other side something is Seoul's own message
    own = "The ministry said it had told Tokyo that Seoul would respond firmly to any release."
    assert actors_of(candidate_sentences(own), "respond firmly") == {"JP"}


def test_a_government_press_releases_unattributed_sentences_are_its_own():
    # invented: a ministry's release whose sentences drop their subject, as Korean official releases do
    text = ("대일 수출규제 관련 정부 조치\n\n보도자료\n\n"
            "□ 정부는 오늘 다음과 같은 조치를 결정하였다.\n\n"
            "오늘 결정한 조치는 외교 채널을 통해 일본 측에 알렸다.\n\n"
            "일본 측은 유감을 표명했다.")
    pairs = candidate_sentences(text)
    assert actors_of(pairs, "일본 측에 알렸다") == {"JP"}
    assert actors_of(pairs, "유감을 표명했다") == set()  # the other side's words stay theirs
    # the same sentences in a news story, where nobody is named, are not Seoul's
    story = text.replace("보도자료\n\n", "")
    assert actors_of(candidate_sentences(story), "일본 측에 알렸다") == set()


def test_a_target_in_a_while_ing_clause_is_addressed_by_the_main_subject():
    # invented: "while urging" is the minister's own act, not a background clause
    text = ("Foreign Minister Cho Hyun explained Seoul's policy of lowering tensions, while urging Moscow to stop "
            "its arms deals with Pyongyang.")
    assert "RU" in actors_of(candidate_sentences(text), "urging Moscow")
    # "while" opening a background clause still hides its target
    background = "Seoul said it would keep its troops on alert while Moscow reviews its own posture."
    assert "RU" not in actors_of(candidate_sentences(background), "on alert")


def test_a_time_lead_without_a_comma_does_not_swallow_the_main_clause():
    text = ("On Monday South Korea offered North Korea military talks, proposing that the two sides meet "
            "at the border.")
    assert actors_of(candidate_sentences(text), "offered North Korea") == {"KP"}


def test_seouls_envoy_posted_abroad_speaks_for_seoul_in_korean():
    # invented: 주러시아 대사 is Seoul's ambassador in Moscow; 주한 러시아대사 is Moscow's in Seoul
    own = "김민수 주러시아 대사가 “한러 관계를 안정적으로 관리하겠다”고 말했습니다."
    assert actors_of(candidate_sentences(own), "한러 관계") == {"RU"}
    theirs = "세르게이 주한 러시아대사가 “한러 관계를 안정적으로 관리하겠다”고 말했습니다."
    assert actors_of(candidate_sentences(theirs), "한러 관계") == set()


def test_a_korean_subordinate_clauses_subject_is_not_the_speaker():
    # invented: 러시아와 북한이 is the subject of ...가까워지면서; the main clause's subject (the envoy) is dropped
    text = ("김민수 주러시아 대사는 “한러 관계를 안정적으로 관리하겠다”고 말했습니다.\n\n"
            "또 러시아와 북한이 가까워지면서 한국의 대러 외교 공간이 좁아졌다고 진단했습니다.")
    assert "RU" in actors_of(candidate_sentences(text), "가까워지면서")
    # a subject that heads the main clause after the subordinate one still decides: 미국이 ... 하자 정부가 ...
    other = "미국이 관세를 올리자 일본 정부가 즉각 유감을 표명했다."
    assert candidate_sentences(other) == []


def test_an_outsiders_description_outranks_a_namesake_placed_elsewhere():
    # invented: two Parks, Seoul's minister and a professor; the quote closed by the professor is his own
    text = ("Unification Minister Park Min-ho called an emergency meeting on Sunday.\n\n"
            "\"The launch tells us Pyongyang wants Washington's attention,\" said Park Sang-woo, a professor at "
            "Hanseo University.\n\n"
            "\"We urge the North to return to talks,\" Park said.")
    pairs = candidate_sentences(text)
    assert actors_of(pairs, "wants Washington's attention") == set()
    assert actors_of(pairs, "We urge the North") == {"KP"}  # the bare surname still names the minister


def test_a_quote_that_opens_on_another_leaders_name_is_still_its_closing_speakers():
    # invented: the quote names Xi as it opens; its speaker, named after it, is Seoul's president
    text = ("President Lee Jae-myung met Chinese President Xi Jinping in Gyeongju on Saturday.\n\n"
            "\"Just as President Xi said, our two countries have built trust over many years,\" Lee added.")
    assert actors_of(candidate_sentences(text), "built trust") == {"CN"}


def test_a_target_named_only_as_a_route_is_not_addressed():
    # invented: the U.S. is the channel of the exchange, not its counterpart
    text = ("The Defense Ministry said Seoul and Tokyo had shared missile warning data only indirectly, via the "
            "U.S., until this year.")
    assert actors_of(candidate_sentences(text), "missile warning data") == {"JP"}
    shipped = ("The Foreign Ministry said Seoul had sent medical supplies to Ukraine by way of Japan, and would keep "
               "its aid non-lethal.")
    assert actors_of(candidate_sentences(shipped), "medical supplies") == set()


def test_another_sides_words_in_a_relative_clause_are_not_seouls():
    # invented: the U.S. is named only inside the Chinese envoy's reported words
    text = ("The Foreign Ministry protested on Friday over remarks by China's ambassador, Li Ming, who said Seoul "
            "would regret siding with the U.S. in the chip dispute.")
    assert actors_of(candidate_sentences(text), "protested") == {"CN"}
    own = ("The ministry thanked Foreign Minister Cho Hyun, who said Seoul would keep working with the U.S. on the "
           "chip dispute.")
    assert "US" in actors_of(candidate_sentences(own), "thanked")  # Seoul's own minister's words stay Seoul's


def test_a_korean_headlines_subject_before_a_comma_speaks():
    # invented headlines: the subject, a comma, then what it did, ending on a noun (초치, 항의, 성명)
    own = "외교부, 日 교과서 검정 결과에 주한 일본대사 초치"
    assert actors_of(candidate_sentences(own), "교과서") == {"JP"}
    president = "윤 대통령, 北 미사일 발사에 “단호히 대응”"
    assert actors_of(candidate_sentences(president), "미사일") == {"KP"}
    theirs = "日, 외교청서에 또 영유권 주장…정부 대응 주목"
    assert candidate_sentences(theirs) == []  # Tokyo is the subject
    # a sentence that ends on a predicate is no headline: "국민 여러분, ..." is an address, not a subject
    address = "국민 여러분, 일본과의 협력은 계속될 것입니다."
    assert actors_of(candidate_sentences(address), "일본과의") == set()


def test_lines_that_say_nothing_inherit_no_target():
    # invented: Seoul's line names Japan; the credit, the sign-off and the courtesy after it carry no stance
    text = ("The Foreign Ministry lodged a strong protest with Japan over its textbook claims on Friday.\n\n"
            "(Foreign Ministry)\n\nPark Ji-won reports.\n\n"
            "The ministry added that the claims must be withdrawn at once.")
    pairs = candidate_sentences(text)
    assert actors_of(pairs, "(Foreign Ministry)") == set()
    assert actors_of(pairs, "reports.") == set()
    assert actors_of(pairs, "must be withdrawn") == {"JP"}  # a line with content still inherits its target
    ko = "<답변> 정부는 일본의 역사 왜곡에 강력히 항의합니다.\n\n감사합니다."
    assert actors_of(candidate_sentences(ko), "감사합니다") == set()
