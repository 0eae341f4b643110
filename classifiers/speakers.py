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

from classifiers.actors import FOREIGN, actors_in, strip_lead
from classifiers.attribution_en import english_side, foreign_people, people
from classifiers.attribution_ko import korean_side, opens_with_tag
from classifiers.sentences import split_sentences
from classifiers.sides import CARRY, OTHER, SEOUL, SPEECH_VERB

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
                side, _ = korean_side(s)
                out.append(Sentence(s, i, side, True, opens_with_tag(s)))
            else:
                side = english_side(s, names)
                if side is None and open_quote:
                    side = CARRY  # the quote an earlier sentence of the paragraph opened goes on
                out.append(Sentence(s, i, side, False))
            quotes = s.count('"') + s.count("“") + s.count("”")
            open_quote = (open_quote + quotes) % 2 == 1 if quotes else open_quote
    return out, skip


_RELEASE = re.compile(r"^(?:보도자료|보도 자료|Press [Rr]elease|PRESS RELEASE)\s*$")


def _seoul_frame(sentences: list[Sentence]) -> bool:
    """The article presents its body as a Seoul speech or statement: the title or lead names a Seoul speaker
    and a speech, statement or briefing."""
    head = sentences[:4]
    return any(s.side == SEOUL and _FRAME.search(s.text) for s in head)


_EN_FIRST_PERSON = re.compile(r"\b(?:we|our|us|ours|I|my|We|Our)\b")
_KO_FIRST_PERSON = re.compile(r"(?:^|\s)(?:우리|저는|제가|저희)(?:는|가|의|도|\s|$)")


def _first_person(s: Sentence) -> bool:
    return bool((_KO_FIRST_PERSON if s.korean else _EN_FIRST_PERSON).search(s.text))


def candidate_sentences(text: str) -> list[tuple[str, str]]:
    """(sentence, actor) pairs worth judging: the sentence names the actor and Seoul speaks in it, in its own
    words or as the speaker the article last named; or, in a speech or statement the article presents as
    Seoul's, in the first person."""
    sentences, _ = article_sentences(text)
    frame = _seoul_frame(sentences)
    # a government's own press release: its unattributed sentences ("미국 측에 알렸다", "(대러 수출통제) 정부의 ...")
    # are the ministry's words
    release = any(_RELEASE.match(s.text) for s in sentences[:4])
    current: str | None = SEOUL if frame or release else None
    out = []
    transcript: str | None = None
    topic: list[str] = []  # the targets of Seoul's last words: "The ministry added that ..." is still about them
    recent: list[str] = []  # the targets of the last sentence that named any, whoever spoke it
    owners = _surname_patterns(foreign_people(text))
    for s in sentences:
        named = actors_in(s.text)
        # a target named only in a background clause ("after North Korea fired ...", "북한의 핵실험 직후") is not
        # addressed
        front = _KO_BACKGROUND.sub(" ", s.text) if s.korean else _others_words(_BACKGROUND.sub(" ", s.text))
        foreground = actors_in(front)
        named = [a for a in named if a in foreground]
        if not s.korean:  # a bare surname of a target's own official: "Kang thanked Wang for coming"
            named += [a for a, pat in owners if a not in named and pat.search(front)]
        if s.tagged:
            transcript = s.side
        elif transcript is not None and s.side != SEOUL:
            s = Sentence(s.text, s.line, CARRY, s.korean)  # a tagged speaker's words run on to the next tag
        if frame and s.side != SEOUL and _first_person(s) and not (s.side == OTHER and SPEECH_VERB.search(s.text)) \
                and not (s.side == CARRY and current == OTHER):  # another side's quoted "we" stays theirs
            speaks = True  # the speech's own first person: "Japan is our neighbour", 우리는 ...
        elif s.side in (SEOUL, OTHER):
            current = s.side
            speaks = s.side == SEOUL
        elif s.side == CARRY:
            speaks = current == SEOUL
        else:
            speaks = release and current == SEOUL
        if speaks:
            # a joint act with no target named ("양측은 ...", "The two sides agreed") is with the side the article
            # last named, whoever spoke then: "중국 측은 ... 밝혔다. 양측은 ... 소통하기로 했다"
            # and a pair named as such ("between the two governments") is Seoul's line's counterpart, or else the
            # side the article last named
            inherited = [] if named or _no_content(s.text) else \
                (recent if _joint(s) else topic or (recent if _pair(s) else []))
            for actor in named or inherited:
                out.append((s.text, actor))
        if named:
            recent = named
        if named and speaks:
            topic = named
        elif s.tagged and s.side == OTHER and named:
            topic = named  # a briefing's question names what the answer is about
        elif s.side == OTHER:
            topic = []  # only Seoul's own line carries its targets on: another side speaking ends it
    return out


_JOINT_KO = re.compile(r"(?:^|\s)(?:양국|양측|두 나라|세 나라|두 정상|양 정상|세 정상|양국 정상)(?:은|는|이|가|도)\s")
_JOINT_EN = re.compile(r"^(?:[Tt]he|[Bb]oth)\s+(?:two\s+|three\s+)?(?:leaders|sides|countries|ministers|governments|"
                       r"presidents|nations|envoys|delegations)\b")


# lines that say nothing of their own and so inherit no target: anything under three words (a briefing's
# "감사합니다.", "이상입니다.", "Thank you."), a photo credit or speaker tag alone ("(AP Photo/...)", "(Foreign
# Ministry)", "[윤석열 / 대통령]"), and a broadcast sign-off ("Kim Bum-soo reports.", "김정인 기자가 보도합니다.")
_NO_CONTENT = re.compile(r"^\s*(?:\([^()]*\)|\[[^\[\]]*\]|<[^<>]*>)\s*$|"
                         r"^\s*(?:[A-Z][\w.'-]*\s){1,3}reports\.?\s*$|기자가 보도합니다\.?\s*$")


def _no_content(text: str) -> bool:
    return len(text.split()) < 3 or bool(_NO_CONTENT.search(text))


def _surname_patterns(owners: dict[str, str]) -> list[tuple[str, re.Pattern]]:
    return [(actor, re.compile(rf"\b{re.escape(surname)}\b(?![ \t]+[A-Z])")) for surname, actor in owners.items()]


_PAIR_EN = re.compile(r"\b(?:the|both|two)\s+(?:two\s+)?(?:governments|neighbou?rs|capitals|sides|countries|leaders)\b")


def _joint(s: Sentence) -> bool:
    """The sentence's subject is Seoul and its counterpart together, unnamed: 양측은, "The two leaders"."""
    return bool(_JOINT_KO.search(s.text[:40]) if s.korean else _JOINT_EN.match(strip_lead(s.text)))


def _pair(s: Sentence) -> bool:
    """The sentence speaks of Seoul and its counterpart as a pair: "differences between the two governments"."""
    return not s.korean and bool(_PAIR_EN.search(s.text))


# a clause that dates or frames the main one: "after North Korea fired ...", "amid worries that ..."; a meeting's
# venue: "summit talks in China", "a forum held in Tokyo" (the host country is no target for being the venue); and a
# route: "shells sent indirectly by way of the U.S."
_PLACE = (r"(?:the\s+)?(?:China|Beijing|Japan|Tokyo|Osaka|Hiroshima|Russia|Moscow|Vladivostok|the United States|"
          r"the U\.S\.|Washington|New York|North Korea|Pyongyang)")
_BACKGROUND = re.compile(r"\b(?:after|before|amid|while(?!\s+\w+ing\b)|since|following|ahead of)\b[^,;]*|"
                         r"\b(?:summit|talks|meeting|conference|forum|ceremony|dialogue|gathering|session|"
                         r"held|hosted|convened)(?:\s+(?:talks|meeting|later|on\s+\w+|this\s+\w+|next\s+\w+))?"
                         rf"\s+(?:in|at)\s+(?:[A-Z]\w+,\s+)?{_PLACE}(?!\w)|"
                         # a route, not a counterpart: "exchanged intelligence only indirectly, via the U.S."
                         rf"\b(?:via|by way of)\s+{_PLACE}(?!\w)")  # (?!\w): "the U.S." ends on a dot
# another side's words in a relative clause: "remarks by China's ambassador, Xing Haiming, who told the opposition
# leader that betting against China in its rivalry with the U.S. would be a mistake"
_WHO_SAID = re.compile(r",\s+who\s+(?:had\s+|has\s+)?(?:told|said|says|warned|claimed|argued|suggested|stated|"
                       r"insisted|urged|threatened|demanded|accused)\b")


def _others_words(text: str) -> str:
    """The sentence up to a relative clause that reports the words of someone of another side or outside
    government (its antecedent, just before the comma, names them); the whole sentence otherwise."""
    m = _WHO_SAID.search(text)
    if m:
        antecedent = text[max(0, m.start() - 80):m.start()]
        if FOREIGN.search(antecedent) or actors_in(antecedent):
            return text[:m.start()]
    return text


_KO_BACKGROUND = re.compile(r"(?:^|(?<=[\s,]))[^\s,“”]+(?:\s[^\s,“”]+){0,3}\s(?:이후|직후|뒤|가운데|속에|"
                            r"와중에)(?=[\s,])|"
                            r"(?:중국|일본|러시아|미국|북한|베이징|도쿄|오사카|히로시마|모스크바|블라디보스토크|워싱턴|뉴욕|평양)"
                            r"(?:\s?[^\s,“”]{1,8})?에서\s(?:열린|열리는|열릴|개최된|개최되는|개최될|진행된|진행되는)")

