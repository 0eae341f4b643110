"""Who speaks in each sentence of an article, in English and Korean, and which (sentence, actor) pairs are
Seoul's words about a followed actor.

A sentence names its own speaker ("The foreign ministry said...", "외교부는 ...고 밝혔다"), or it carries on
the last one the article named: a pronoun ("He added", 그는, 이 당국자는), a quote with no attribution of its
own, a Korean quote ending in "...고 말했다" with no subject. That speaker holds, however far back it was named,
until the article names a speaker of another side (another government, a news agency, an opposition party,
an analyst). A speech or statement whose body is first person ("We will respond sternly", 우리 정부는) is
Seoul's when the article presents it as the president's or a ministry's (its title or lead does, or it is a
transcript). Lists of related headlines, bylines and copyright lines are page furniture: no speaker, no
candidate."""
from __future__ import annotations

import re
from dataclasses import dataclass

from classifiers.actors import _FOREIGN, _strip_lead, actors_in, agents, has_seoul_voice
from classifiers.sentences import split_sentences

SEOUL, OTHER, CARRY = "seoul", "other", "carry"  # CARRY: the sentence continues the current speaker
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_LATIN = re.compile(r"[A-Za-z]")


def language_of(text: str) -> str | None:
    """'ko' when Hangul dominates the letters of the text, 'en' when Latin letters do, else None."""
    sample = text[:5000]
    hangul, latin = len(_HANGUL.findall(sample)), len(_LATIN.findall(sample))
    if hangul + latin == 0:
        return None
    # a Hangul syllable carries about three Latin letters' worth of text
    return "ko" if 3 * hangul >= latin else "en"


def is_korean(sentence: str) -> bool:
    return language_of(sentence) == "ko"


# -- page furniture ----------------------------------------------------------------------------------------
_LIST_HEAD = re.compile(
    r"^\s*(?:[☞▶►■◆●•▷◇○△▲※]|[-–·]\s|\[?관련\s?(?:기사|뉴스|키워드)\]?|\[?함께 보면 좋은|.{0,12}다른 기사|"
    r"(?:Related|More (?:in|from|on)|Read (?:more|also)|See also|Other [Ss]tories|Most (?:Read|Popular)|Latest|"
    r"Recommended|You may also like|tags?)\b)", re.I)
_FURNITURE = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,64}\.[\w.]{1,64}|ⓒ|©|\(c\)|무단\s?전재|재배포|저작권|All "
                        r"rights reserved|"
                        r"기사문의|제보|Copyright", re.I)
_SENTENCE_END = re.compile(r"(?:[.!?。]|[다요죠까])[\"'”’)\]]*\s*$")
_CREDIT_ONLY = re.compile(r"^\s*(?:[\[(【][^\])】:/]{1,40}[\])】]\s*)+$")


def _title_like(line: str) -> bool:
    return len(line) <= 160 and not _SENTENCE_END.search(line)


def furniture_lines(lines: list[str]) -> set[int]:
    """Indices of the lines that are page furniture: related-headline lists (a list header and the title-like
    lines under it, or a run of two or more title-like lines after the article's last sentence), bylines with
    an e-mail address, copyright notices, bare credits ("[연합뉴스TV 제공]")."""
    out: set[int] = set()
    in_list = False
    for i, line in enumerate(lines):
        if len(line) < 80 and _FURNITURE.search(line) or _CREDIT_ONLY.match(line):  # a long caption keeps its text
            out.add(i)
            continue
        if _LIST_HEAD.match(line):
            in_list = True
            out.add(i)
            continue
        if in_list and _title_like(line):
            out.add(i)
            continue
        in_list = False
    last_sentence = max((i for i, line in enumerate(lines) if not _title_like(line) and i not in out), default=-1)
    tail = [i for i in range(last_sentence + 1, len(lines)) if i not in out]
    if last_sentence >= 0 and len(tail) >= 2:
        out.update(tail)
    return out


# -- English ------------------------------------------------------------------------------------------------
_EN_CARRY_START = re.compile(
    r"^(?:[\"“‘']|(?:(?:But|And|Also|However|Still|Yet|Meanwhile|Then|Instead),?\s+)?(?:He|She|They|It|We|I|His|Her|"
    r"Their|Our|The (?:president|minister|ministry|office|official|spokes(?:person|man|woman)|statement|"
    r"remarks?|speech|address|message|letter|envoy|ambassador|leader|government|administration|"
    r"candidate|agency|military|presidential office)|This|That|These|Such)\b)")
_EN_PRONOUN_SPEAKER = re.compile(
    r"[,”\"’]\s*(?:he|she|they|it|we|the (?:president|minister|ministry|official|spokes\w+|office|statement|"
    r"envoy|ambassador|leader))\s+(?:said|says|added|noted|stressed|told|continued|went on|wrote|stated)\b"
    r"|[”\"’],?\s*(?:said|added) (?:he|she)\b")
_EN_FIRST_PERSON = re.compile(r"\b(?:we|our|us|ours|I|my|We|Our)\b")


# People the article names with a title: "Foreign Minister Park Jin" makes a later bare "Park said" Seoul's,
# "Chinese Foreign Minister Wang Yi" makes "Wang said" another side's. A surname met on both sides is neither.
_TITLE = (r"(?:President|Minister|[Mm]inister|[Ss]pokes(?:person|man|woman)|Ambassador|ambassador|[Aa]dviser|"
          r"[Aa]dvisor|"
          r"[Oo]fficial|[Cc]hief|[Dd]irector(?:-general)?|[Ss]ecretary|[Ee]nvoy|Chairman|[Hh]ead|[Ll]eader|[Cc]ommissioner|"
          r"[Nn]egotiator|[Rr]epresentative|[Dd]eputy|[Cc]ounselor|Premier|Prime Minister|[Gg]eneral|[Aa]dmiral|"
          r"[Cc]ommander|"
          r"[Cc]ounterpart)")
_TITLED_NAME = re.compile(rf"\b{_TITLE}(?:\s+of\s+[A-Z][\w ]{{2,40}}?)?,?\s+"
                          r"(?P<name>[A-Z][a-z]{1,10}(?:\s+[A-Z][a-z]+(?:-[A-Za-z][a-z]+)?)?)\b(?!\s+[A-Z])")
_NAME_TITLED = re.compile(rf"\b(?P<name>[A-Z][a-z]{{1,10}}\s+[A-Z][a-z]+(?:-[A-Za-z][a-z]+)?),\s+(?:the\s+)?"
                          rf"(?P<post>[^,.;]{{0,40}}?)\b{_TITLE}")
_NAME_LEAD = re.compile(r"^(?P<surname>[A-Z][a-z]{1,8})(?P<given>\s+[A-Z][a-z]+(?:-[a-z]+)?)?(?:\s+(?:also|then|"
                        r"further|later|"
                        r"again|earlier|reportedly|apparently|however|too))?\s+[a-z]")
_NAME_SAID = re.compile(r"[,”\"’]\s*(?P<surname>[A-Z][a-z]{1,8})(?:\s+[A-Z][a-z]+(?:-[a-z]+)?)?\s+(?:said|added|told|"
                        r"noted|"
                        r"stressed|continued|wrote)\b|[”\"’],?\s*said\s+(?P<surname2>[A-Z][a-z]{1,8})\b")
_SEOUL_MARK = re.compile(r"South Korea|Korean|Seoul|ROK|Unification|Defense|Foreign|Trade|Industry|presidential|"
                         r"National Security|First Vice|Vice|[Mm]inistry")


# A joint act of Seoul and its counterpart: "the two leaders agreed", "both sides reaffirmed".
_JOINT = re.compile(r"\b(?:[Tt]he|[Bb]oth)\s+(?:two|three)?\s*(?:leaders|sides|countries|ministers|governments|"
                    r"presidents|"
                    r"nations|envoys|delegations)?\s*(?:of [A-Z][\w ,]{3,50}?\s)?(?:also\s+|further\s+|"
                    r"then\s+)?(?:agreed|acknowledged|"
                    r"reaffirmed|restated|shared|pledged|vowed|confirmed|expressed|welcomed|decided|committed|condemned|"
                    r"urged|affirmed|noted|took note|called)\b")


_PAIR_AGREED = re.compile(r"(?P<agent>[^,;]{3,120}?\band\b[^,;]{3,120}?)\s+(?:also\s+|jointly\s+)?(?:agreed|reaffirmed|"
                          r"pledged|vowed|affirmed|restated|shared|confirmed|committed|signed|adopted|issued)\b")
_SEOUL_SIDE = re.compile(r"South Korea|Seoul|\bROK\b|President (?:Lee|Yoon|Moon|Park)\b|Korean (?:President|[Ff]oreign|"
                         r"[Dd]efen[cs]e|[Uu]nification)")


_EN_TAG = re.compile(r"^(?:\[[^\]]{1,20}\]\s*)?(?P<who>[A-Z][^:\"“]{2,60}?)\s*:\s*[\"“]")


def people(text: str) -> dict[str, str]:
    """Surname -> SEOUL or OTHER, from the titled names the article uses."""
    sides: dict[str, set[str]] = {}
    for m in _TITLED_NAME.finditer(text):
        # the title's own modifiers, up to three words: "Chinese Foreign Minister", "North Korean leader"
        pre = " ".join(re.split(r"[,\n(.;]", text[max(0, m.start() - 60):m.start()])[-1].split()[-3:])
        foreign = _FOREIGN.search(pre) or actors_in(pre)
        if foreign and not re.search(r"South Korea|Seoul", pre):
            side = OTHER
        elif re.search(r"South Korea|Korean|Seoul|ROK|Republic of Korea", pre) or (
                _SEOUL_MARK.search(f"{pre} {m.group(0)}") and _surname(m.group("name")) in _KO_SURNAMES):
            side = SEOUL  # "Foreign Minister Park Jin"; an untold nationality is Seoul's only for a Korean name
        else:
            continue
        sides.setdefault(_surname(m.group("name")), set()).add(side)
    for m in _NAME_TITLED.finditer(text):  # "Cho Hyun, foreign minister of the Republic of Korea"
        post = m.group("post")
        if _FOREIGN.search(post) or actors_in(post):
            side = OTHER
        elif re.search(r"South Korea|Korean|Seoul|ROK|Republic of Korea", post) or (
                _surname(m.group("name")) in _KO_SURNAMES and re.search(r"[Mm]inist|[Uu]nification|[Dd]efen[cs]e",
                                                                        post)):
            side = SEOUL
        else:
            continue
        sides.setdefault(_surname(m.group("name")), set()).add(side)
    return {k: next(iter(v)) for k, v in sides.items() if len(v) == 1}


_KO_SURNAMES = set("Kim Lee Park Choi Jung Chung Jeong Kang Cho Yoon Yun Jang Lim Han Oh Seo Suh Shin Kwon Hwang Ahn "
                   "Song "
                   "Yoo Yu Hong Jeon Ko Moon Yang Son Bae Baek Heo Nam Noh Roh Ha Kwak Sung Cha Joo Woo Min Ryu Na Jin "
                   "Ji "
                   "Chae Won Chun Bang Hyun Ham Byun Yeom Wi Rhee Ban Koo Ku Kwak Lyu Nah Pyo Shim Sim".split())


_ZH_SURNAMES = set("Wang Xi Li Zhang Liu Chen Zhao Huang Zhou Wu Xu Sun Hu Zhu Gao Lin He Guo Ma Luo Liang Zheng Xie "
                   "Tang Feng Dong Xiao Cheng Cao Yuan Deng Xing Hua Mao Qin Geng Lu Jiang Fu Shen Ye Wen Dai".split())


def _surname(name: str) -> str:
    """Korean and Chinese names put the surname first (Park Jin, Kim Hong-kyun, Wang Yi), Western and, in
    English copy, Japanese ones last (Sergey Lavrov, Shinzo Abe)."""
    parts = name.split()
    return parts[0] if parts[0] in _KO_SURNAMES or parts[0] in _ZH_SURNAMES or "-" in name else parts[-1]


def _english_side(sentence: str, names: dict[str, str] | None = None) -> str | None:
    names = names or {}
    tag = _EN_TAG.match(sentence)
    if tag:  # a broadcast soundbite: '[Soundbite] Yoon Suk Yeol(President) : "..."'
        who = tag.group("who")
        if _FOREIGN.search(who) or actors_in(who):
            return OTHER
        if _SEOUL_SIDE.search(who) or re.search(r"President|Minister|[Ss]pokes|[Oo]fficial|Ministry", who) or \
                names.get(_surname(who.split("(")[0].strip() or "x")) == SEOUL:
            return SEOUL
    said = _NAME_SAID.search(sentence)
    if said and names.get(said.group("surname") or said.group("surname2")):
        return names[said.group("surname") or said.group("surname2")]  # '"...," Park said'
    if _EN_PRONOUN_SPEAKER.search(sentence):
        return CARRY  # '"Seoul should ...," he said': the quote's words are not its speaker
    if has_seoul_voice(sentence) or _JOINT.search(sentence):
        return SEOUL
    pair = _PAIR_AGREED.match(_strip_lead(sentence))
    if pair and _SEOUL_SIDE.search(pair.group("agent")):
        return SEOUL  # "Japanese Prime Minister Abe and South Korean President Moon agreed": a joint act
    lead = _NAME_LEAD.match(_strip_lead(sentence))
    if lead and names.get(lead.group("surname")):
        return names[lead.group("surname")]  # "Kang sought Moscow's help ..."
    if lead and lead.group("surname") in _KO_SURNAMES and lead.group("given") and not actors_in(sentence[:40]) \
            and _SPEECH_VERB.match(sentence[lead.end() - 1:]):
        return SEOUL  # "Park Jin said the ROK is willing ...": a Korean name speaking in a story about Seoul
    found = agents(sentence)
    if found and any(_short_foreign(a) for a in found):
        # a named speaker of another side; a pronoun-led sentence keeps the current one
        if not _EN_CARRY_START.match(sentence):
            return OTHER
    if _EN_CARRY_START.match(sentence):
        return CARRY
    head = _strip_lead(sentence)[:60]
    foreign = _FOREIGN.search(head)
    if foreign and foreign.start() <= 4:
        return OTHER  # no verb we know, but the sentence opens on someone else: "Chinese ... spokesperson X answered"
    return None


def _short_foreign(agent: str) -> bool:
    """An agent phrase headed by another side: "China's foreign ministry", "Japanese Prime Minister Kishida"."""
    m = _FOREIGN.search(agent)
    first = actors_in(agent[:40])
    return len(agent) <= 90 and ((m is not None and m.start() <= 25) or bool(first))


# -- Korean -------------------------------------------------------------------------------------------------
_KO_DATELINE = re.compile(r"^\s*(?:[(\[【][^)\]】]{1,25}=[^)\]】]{1,25}[)\]】]\s*)?"
                          r"(?:[가-힣]{2,4}(?:\s[가-힣]{2,4}){0,3}\s?기자\s*=\s*)?")
_KO_TAG = re.compile(r"^\s*(?:<(?P<tag>[^>]{1,10})>|\[(?P<who>[^\]:/]{2,30})\s*[:/]\s*(?P<rest>[^\]]*)\]?)\s*")
_KO_QUOTE = re.compile(r"“[^”]*”|\"[^\"]*\"|‘[^’]*’|'[^']*'|\[[^\]]*\]|\([^)]*\)")
_KO_PARTICLE = re.compile(r"^(?P<stem>.+?)(?:께서는|께서|에서는|은|는|이|가|도)$")
_KO_SEOUL = re.compile(
    r"(?:^|\s)(?:우리|한국|대한민국|우리나라|정부|외교부|외교통상부|국방부|통일부|산업(?:통상자원)?부|대통령실|청와대|합참|합동참모본부|"
    r"국가안보실|안보실|국정원|국가정보원|해경|해양경찰청|군|군 당국|우리 군|국무총리|국무회의|국가안전보장회의|NSC|"
    r"정부 당국자)$|(?:대통령|장관|차관|대변인|당국자|관계자|대사|실장|수석|비서관|국장|본부장|차관보|총리|심의관)$"
    r"|^(?:한미|한·미|한일|한·일|한중|한·중|한러|한·러|한미일|한·미·일|남북|양국|양측|두 나라|세 나라|두 정상|양 정상|"
    r"세 정상|양국 정상|한미 양국|한일 양국|한중 양국|"
    r"한미 군 당국|한미 정상|한일 정상|한중 정상|남북 정상|[가-힣]{1,4} 대통령과 [가-힣 ]{1,20}대통령)$")
_KO_PRONOUN = re.compile(r"^(?:그|그녀|그들|이들|이 (?:당국자|관계자|소식통|대변인|고위 당국자))$")
_KO_OTHER = re.compile(
    r"(?:^|\s)(?:야당|여당|민주당|국민의힘|정의당|의원|전문가|교수|연구원|연구위원|외신|언론|신문|방송|통신|업계|기업|회사|시민단체|단체|주민|"
    r"관측통|소식통|분석|평론가|노조|유족|피해자|네티즌|누리꾼|매체|조선중앙|노동신문|중앙통신)"
    r"|(?:의원|전문가|교수|연구원|지사|시장|구청장|의장|위원장|대표|소식통|관계자들)$")
_KO_SPEECH_END = re.compile(r"(?:고|며|면서|라며|라고|이라고|다고|냐고)\s+(?:[가-힣]+\s+){0,3}[가-힣]*(?:했다|했습니다|"
                            r"말했다|밝혔다|"
                            r"강조했다|덧붙였다|설명했다|전했다|말했습니다|밝혔습니다|강조했습니다|덧붙였습니다|설명했습니다|"
                            r"전했습니다|했고|한다)\.?$")
_KO_CONTINUE = re.compile(r"^(?:이어|또|또한|그러면서|아울러|특히|다만|그러나|하지만|이와 함께|이에|앞서|그는)\b")
_KO_PREDICATE_END = re.compile(r"(?:했다|했습니다|혔다|혔습니다|렸다|렸습니다|겠다|겠습니다|이다|입니다|한다|"
                               r"합니다)[.”\"']*$")
_KO_REGARDING = re.compile(r"^(?:대해|대해서는|대해서도|대해선|관련해|관련해서는|관련해선|관해|관해서는)[,]?$")
_KO_NOT_SUBJECT = re.compile(r"(?:와|과|에|에게|에서|로|으로|께|한테|보다|부터|까지|처럼|만|의)$")
_KO_HEADLINE_SPEAKER = re.compile(r"^(?P<who>[^“\"]{1,40}?)\s?[“\"]")
_KO_MODIFIER = re.compile(r"(?:[한된던는은의을를과와로에서도]|[0-9]+[일월년]?|[,.)])$")
_KO_FIRST_PERSON = re.compile(r"(?:^|\s)(?:우리|저는|제가|저희)(?:는|가|의|도|\s|$)")


def _korean_subject(np: str) -> str | None:
    """Classify a subject noun phrase (without its particle)."""
    np = np.strip()
    if not np:
        return None
    if _KO_PRONOUN.match(np):
        return CARRY
    foreign = [a for a in actors_in(np)]
    joint = re.match(r"^(?:한|남북|우리)", np)
    if (foreign and not joint) or _KO_OTHER.search(np):
        return OTHER
    if _KO_SEOUL.search(np):
        return SEOUL
    return None


def _korean_side(sentence: str) -> tuple[str | None, str]:
    """(side, the sentence without a dateline, byline or speaker tag)."""
    s = _KO_DATELINE.sub("", sentence, count=1)
    tag = _KO_TAG.match(s)
    if tag:
        if tag.group("tag"):
            name = tag.group("tag").strip()
            s = s[tag.end():]
            if name in ("답변", "답", "A"):
                return SEOUL, s  # a briefing transcript's answers are the spokesperson's
            if name in ("질문", "문", "Q", "앵커", "기자", "리포트"):
                return OTHER, s
        else:
            who = _korean_subject(tag.group("who"))
            if who not in (SEOUL, OTHER) and len(tag.group("rest")) <= 15:  # "[윤석열 / 대통령]"
                who = _korean_subject(f"{tag.group('who').strip()} {tag.group('rest').strip(' ]')}")
            if who in (SEOUL, OTHER):
                return who, s
    head = _KO_HEADLINE_SPEAKER.match(s)
    if head:  # a headline's 'speaker “quote”': '…외교부 “우려·유감 전달”'
        who = re.split(r"[…,·]|\.\.\.", head.group("who"))[-1].split()
        side = _korean_subject(" ".join(who)) if 0 < len(who) <= 3 and not any(
            _KO_PARTICLE.match(w) or _KO_MODIFIER.search(w) for w in who) else None
        if side in (SEOUL, OTHER):
            return side, s
    bare = _KO_QUOTE.sub(" ", s)
    tokens = bare.split()
    # The main clause's subject: the first topic-marked phrase (정부는, 그는) that names a side, else the last
    # subject-marked one (이/가): in "미국이 ... 발동하자 정부가 ... 제소했다" the first subject is the
    # subordinate clause's.
    topic, subject, any_subject = None, None, False
    for i, tok in enumerate(tokens[:25]):
        m = _KO_PARTICLE.match(tok.rstrip(",."))
        if not m or _KO_NOT_SUBJECT.search(m.group("stem")):
            continue  # "일본 총리와는", "회의에서는": a partner or a place, not the subject
        any_subject = True
        words = [m.group("stem")]
        for prev in reversed(tokens[max(0, i - 3):i]):  # the noun phrase: "중국 외교부 대변인", "박 대통령"
            if _KO_MODIFIER.search(prev) and not prev.startswith("주한"):
                break  # "방미한 문 대통령": the phrase starts after an adnominal, a particle or a date
            words.insert(0, prev)
        side = _korean_subject(" ".join(words))
        if not side:
            continue
        if tok.rstrip(",.").endswith(("은", "는", "께서는", "측은")):
            topic = topic or side
            break
        if any(_KO_REGARDING.match(tokens[j]) and (tokens[j - 1] in ("데", "것", "점") or tokens[j - 1].endswith(
                ("다는", "하는", "있는", "것과", "데")))
               for j in range(i + 2, min(len(tokens), i + 12))):
            continue  # "중국 당국이 ... 막고 있다는 데 대해서는": the subject of what is talked about
        subject = side
    if topic or subject:
        return topic or subject, s
    if s.lstrip().startswith(("“", "\"", "‘")) or _KO_CONTINUE.match(s.strip()) or _KO_SPEECH_END.search(bare.strip()):
        return CARRY, s
    if not any_subject and _KO_PREDICATE_END.search(bare.strip()):
        return CARRY, s  # Korean drops the subject that goes on: "(박 대통령은) 아베 총리와는 ... 합의했다"
    return None, s


# -- the article ------------------------------------------------------------------------------------------
_FRAME = re.compile(
    r"speech|address|statement|remarks|message|briefing|press conference|news conference|interview|post(?:ed)?\b|"
    r"letter|op-ed|transcript|commemorat|기념사|연설|담화|성명|입장문|발표문|축사|신년사|논평|브리핑|회견|모두\s?발언|"
    r"정례브리핑|대국민|녹취|인터뷰|메시지|서한|기고", re.I)


@dataclass
class Sentence:
    text: str
    line: int
    side: str | None  # SEOUL, OTHER, CARRY or None (narration)
    korean: bool
    tagged: bool = False  # a transcript's speaker tag ("[윤석열 / 대통령]", "<답변>") opens it


def article_sentences(text: str) -> tuple[list[Sentence], set[int]]:
    lines = [" ".join(line.split()) for line in text.split("\n")]
    keep = [i for i, line in enumerate(lines) if line]
    nonempty = [lines[i] for i in keep]
    skip = {keep[j] for j in furniture_lines(nonempty)}
    out = []
    names = people("\n".join(lines[i] for i in keep if i not in skip))
    for i in keep:
        if i in skip:
            continue
        open_quote = False
        for s in split_sentences(lines[i]):
            if is_korean(s):
                side, _ = _korean_side(s)
                out.append(Sentence(s, i, side, True, bool(_KO_TAG.match(_KO_DATELINE.sub("", s, count=1)))))
            else:
                side = _english_side(s, names)
                if side is None and open_quote:
                    side = CARRY  # the quote an earlier sentence of the paragraph opened goes on
                out.append(Sentence(s, i, side, False))
            quotes = s.count('"') + s.count("“") + s.count("”")
            open_quote = (open_quote + quotes) % 2 == 1 if quotes else open_quote
    return out, skip


def _seoul_frame(sentences: list[Sentence]) -> bool:
    """The article presents its body as a Seoul speech or statement: the title or lead names a Seoul speaker
    and a speech, statement or briefing."""
    head = sentences[:4]
    return any(s.side == SEOUL and _FRAME.search(s.text) for s in head)


_SPEECH_VERB = re.compile(r"\b(?:said|says|told|warned|stated|claimed|argued|insisted|added|urged|demanded|accused|"
                          r"noted|"
                          r"stressed|explained|emphasi[sz]ed)\b|"
                          r"밝혔|말했|주장했|비난했|요구했|강조했|경고했")


def _first_person(s: Sentence) -> bool:
    return bool((_KO_FIRST_PERSON if s.korean else _EN_FIRST_PERSON).search(s.text))


def candidate_sentences(text: str) -> list[tuple[str, str]]:
    """(sentence, actor) pairs worth judging: the sentence names the actor and Seoul speaks in it, in its own
    words or as the speaker the article last named; or, in a speech or statement the article presents as
    Seoul's, in the first person."""
    sentences, _ = article_sentences(text)
    frame = _seoul_frame(sentences)
    current: str | None = SEOUL if frame else None
    out = []
    transcript: str | None = None
    topic: list[str] = []  # the targets of Seoul's last words: "The ministry added that ..." is still about them
    for s in sentences:
        named = actors_in(s.text)
        # a target named only in a background clause ("after North Korea fired ...", "북한의 핵실험 직후") is not
        # addressed
        foreground = actors_in((_KO_BACKGROUND if s.korean else _BACKGROUND).sub(" ", s.text))
        named = [a for a in named if a in foreground]
        if s.tagged:
            transcript = s.side
        elif transcript is not None and s.side != SEOUL:
            s = Sentence(s.text, s.line, CARRY, s.korean)  # a tagged speaker's words run on to the next tag
        if frame and s.side != SEOUL and _first_person(s) and not (s.side == OTHER and _SPEECH_VERB.search(s.text)) \
                and not (s.side == CARRY and current == OTHER):  # another side's quoted "we" stays theirs
            speaks = True  # the speech's own first person: "Japan is our neighbour", 우리는 ...
        elif s.side in (SEOUL, OTHER):
            current = s.side
            speaks = s.side == SEOUL
        elif s.side == CARRY:
            speaks = current == SEOUL
        else:
            speaks = False
        if speaks:
            for actor in named or topic:
                out.append((s.text, actor))
        if named and speaks:
            topic = named
        elif s.tagged and s.side == OTHER and named:
            topic = named  # a briefing's question names what the answer is about
        elif s.side == OTHER:
            topic = []  # only Seoul's own line carries its targets on: another side speaking ends it
    return out


# a clause that dates or frames the main one: "after North Korea fired ...", "amid worries that ..."
_BACKGROUND = re.compile(r"\b(?:after|before|amid|while|since|following|ahead of)\b[^,;]*")
_KO_BACKGROUND = re.compile(r"(?:^|(?<=[\s,]))[^\s,“”]+(?:\s[^\s,“”]+){0,3}\s(?:이후|직후|뒤|가운데|속에|"
                            r"와중에)(?=[\s,])")
