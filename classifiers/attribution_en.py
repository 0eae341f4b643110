"""Who speaks in an English sentence: a named speaker's side (titled names the article uses, soundbite tags,
"Park said"), a pronoun or quote that carries on the current speaker, a joint act of Seoul and its counterpart,
or another side named at the head of the sentence."""
from __future__ import annotations

import re

from classifiers.actors import FOREIGN, VERB, actors_in, agents, find_mentions, has_seoul_voice, strip_lead
from classifiers.sides import CARRY, OTHER, SEOUL, SPEECH_VERB

_EN_CARRY_START = re.compile(
    r"^(?:[\"“‘']|(?:(?:But|And|Also|However|Still|Yet|Meanwhile|Then|Instead),?\s+)?(?:He|She|They|It|We|I|His|Her|"
    r"Their|Our|The (?:president|minister|ministry|office|official|spokes(?:person|man|woman)|statement|"
    r"remarks?|speech|address|message|letter|envoy|ambassador|leader|government|administration|"
    r"candidate|agency|military|presidential office)|This|That|These|Such)\b)")
_EN_PRONOUN_SPEAKER = re.compile(
    r"[,”\"’]\s*(?:he|she|they|it|we|the (?:president|minister|ministry|official|spokes\w+|office|statement|"
    r"envoy|ambassador|leader))\s+(?:said|says|added|noted|stressed|told|continued|went on|wrote|stated)\b"
    r"|[”\"’],?\s*(?:said|added) (?:he|she)\b")


# People the article names with a title: "Foreign Minister Park Jin" makes a later bare "Park said" Seoul's,
# "Chinese Foreign Minister Wang Yi" makes "Wang said" another side's. A surname met on both sides is neither.
_TITLE = (r"(?:President|Minister|[Mm]inister|[Ss]pokes(?:person|man|woman)|Ambassador|ambassador|[Aa]dviser|"
          r"[Aa]dvisor|"
          r"[Oo]fficial|[Cc]hief|[Dd]irector(?:-general)?|[Ss]ecretary|[Ee]nvoy|Chairman|[Hh]ead|[Ll]eader|[Cc]ommissioner|"
          r"[Nn]egotiator|[Rr]epresentative|[Dd]eputy|[Cc]ounselor|Premier|Prime Minister|[Gg]eneral|[Aa]dmiral|"
          r"[Cc]ommander|"
          r"[Cc]ounterpart)")
_TITLED_NAME = re.compile(rf"\b{_TITLE}(?:\s+of\s+[A-Z][\w ]{{2,40}}?)?,?\s+"
                          r"(?P<name>[A-Z][a-z]{1,10}(?:[ \t]+[A-Z][a-z]+(?:-[A-Za-z][a-z]+)?){0,2})\b(?![ \t]+[A-Z])")
_NAME_TITLED = re.compile(rf"\b(?P<name>[A-Z][a-z]{{1,10}}\s+[A-Z][a-z]+(?:-[A-Za-z][a-z]+)?),\s+(?:the\s+)?"
                          rf"(?P<post>[^,.;]{{0,40}}?)\b{_TITLE}")
_NAME_LEAD = re.compile(r"^(?P<surname>[A-Z][a-z]{1,8})(?P<given>\s+[A-Z][a-z]+(?:-[a-z]+)?)?(?:\s+(?:also|then|"
                        r"further|later|"
                        r"again|earlier|reportedly|apparently|however|too))?\s+[a-z]")
_NAME_SAID = re.compile(r"[,”\"’]\s*(?P<surname>[A-Z][a-z]{1,8})(?:\s+[A-Z][a-z]+(?:-[a-z]+)?)?\s+(?:said|added|told|"
                        r"noted|"
                        r"stressed|continued|wrote)\b|[”\"’],?\s*said\s+(?P<surname2>[A-Z][a-z]{1,8})\b")
_SEOUL_MARK = re.compile(r"South Korea|Korean|Seoul|ROK|Unification|Defense|Foreign|Trade|Industry|presidential|"
                         r"President|Prime Minister|"
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


# A quote closed by its speaker: '"...," said Lim Eul-chul, a professor at ...' or '"...," Lim, an analyst, said'.
# The quote is closed (',"' '?"' '."' or '",'), not opened: in '"Just as President Xi said, our ...," Lee added'
# the speaker is Lee, not "Just as President Xi".
_CLOSE = r"(?:[,.!?…]['’]?[”\"’]|[”\"’],)\s*"
_QUOTE_CLOSED_BY = re.compile(_CLOSE + r"(?:said|says|added|noted|wrote)\s+(?P<a>[^;”\"“]{2,120})"
                              r"|" + _CLOSE + r"(?P<b>[A-Z][^;”\"“]{2,120}?)\s+(?:said|says|added|noted|wrote)\b")


def _quoted_outsider(sentence: str) -> bool:
    """The quote's speaker, named after it, is someone of another side or outside government (an analyst, a
    professor, a foreign official): the quote is theirs, whatever it says of Seoul."""
    m = _QUOTE_CLOSED_BY.search(sentence)
    if not m:
        return False
    who = m.group("a") or m.group("b") or ""
    outside = [mention.start for mention in find_mentions(who)]
    foreign = FOREIGN.search(who)
    if foreign:
        outside.append(foreign.start())
    seoul = [x.start() for x in (_SEOUL_SIDE.search(who), _OWN_OFFICE.search(who)) if x]
    # whichever the speaker's description names first: "a researcher at an institute in Seoul" is outside
    return bool(outside) and (not seoul or min(outside) < min(seoul))


# Seoul's speaker relaying what another side told it: "... said Moscow had told Seoul it would ...", "the ministry said
# Tokyo had informed it that ...": the words are the other side's.
_RELAYED = re.compile(r"\b(?:said|says|added|noted)\s+(?:that\s+)?(?:the\s+)?(?:Chinese|Japanese|Russian|U\.S\.|US|"
                      r"American|North Korean|China|Japan|Russia|Moscow|Beijing|Tokyo|Washington|Pyongyang|"
                      r"the United States|North Korea)(?:'s|’s)?(?:\s+[a-z]+){0,2}?\s+(?:had\s+|has\s+)?(?:told|"
                      r"informed|notified|conveyed|assured|promised|pledged|explained)\b")


_OWN_OFFICE = re.compile(r"\b(?:[Oo]ur|South Korean|Korean government|[Mm]inistry|[Mm]inister|[Ss]pokes\w+|"
                         r"presidential)\b")


_EN_TAG = re.compile(r"^(?:\[[^\]]{1,20}\]\s*)?(?P<who>[A-Z][^:\"“]{2,60}?)\s*:\s*[\"“]")


def people(text: str) -> dict[str, str]:
    """Surname -> SEOUL or OTHER, from the titled names the article uses."""
    sides: dict[str, set[str]] = {}
    for surname, side, _ in _placed_names(text):
        sides.setdefault(surname, set()).add(side)
    return {k: next(iter(v)) for k, v in sides.items() if len(v) == 1}


def foreign_people(text: str) -> dict[str, str]:
    """Surname -> actor for the people the article names as one target's own ("Chinese Foreign Minister Wang
    Yi", "Japan's Kishida"), so that a later bare "Wang" names China. A surname met on two sides, or on Seoul's,
    is nobody's."""
    owners: dict[str, set[str | None]] = {}
    for surname, side, actor in _placed_names(text):
        owners.setdefault(surname, set()).add(actor if side == OTHER else None)
    return {k: next(iter(v)) for k, v in owners.items() if len(v) == 1 and None not in v}


def _placed_names(text: str):
    """(surname, side, actor) for each titled or possessed name whose side the article tells; actor is the one
    target the name's modifiers name (None when they name none or several: "the U.N. envoy"). A surname that is
    also a capitalised English word ("Vice Premier He Lifeng") is left out: "He said" is a pronoun."""
    for surname, side, actor in _titled_names(text):
        if surname not in _WORD_SURNAMES:
            yield surname, side, actor


_WORD_SURNAMES = frozenset("He Ye So An No Do Go Man Long".split())


def _titled_names(text: str):
    for m in _TITLED_NAME.finditer(text):
        # the title's own modifiers, up to three words: "Chinese Foreign Minister", "North Korean leader"
        pre = " ".join(re.split(r"[,\n(.;]", text[max(0, m.start() - 60):m.start()])[-1].split()[-3:])
        foreign = FOREIGN.search(pre) or actors_in(pre)
        if foreign and not re.search(r"South Korea|Seoul", pre):
            yield _surname(m.group("name")), OTHER, _one(actors_in(pre))
        elif re.search(r"South Korea|Korean|Seoul|ROK|Republic of Korea", pre) or (
                _SEOUL_MARK.search(f"{pre} {m.group(0)}") and _surname(m.group("name")) in _KO_SURNAMES):
            # "Foreign Minister Park Jin"; an untold nationality is Seoul's only for a Korean name
            yield _surname(m.group("name")), SEOUL, None
    for m in _NAME_TITLED.finditer(text):  # "Cho Hyun, foreign minister of the Republic of Korea"
        # the whole role: "foreign minister of the Republic of Korea", up to the clause's end
        post = text[m.start("post"):m.end()] + re.split(r"[,.;\n]", text[m.end():m.end() + 60])[0]
        if FOREIGN.search(post) or actors_in(post):
            yield _surname(m.group("name")), OTHER, _one(actors_in(post))
        elif re.search(r"South Korea|Korean|Seoul|ROK|Republic of Korea", post) or (
                _surname(m.group("name")) in _KO_SURNAMES and re.search(r"[Mm]inist|[Uu]nification|[Dd]efen[cs]e",
                                                                        post)):
            yield _surname(m.group("name")), SEOUL, None
    for m in _POSSESSED_NAME.finditer(text):  # "South Korea's Kang Kyung-wha met ...", "Japan's Kishida"
        if _surname(m.group("name")) not in _KO_SURNAMES | _ZH_SURNAMES:
            continue  # "China's Foreign Ministry" is no person; a Western name needs its title to be placed
        owner = m.group("owner")
        if re.match(r"South Korea|Seoul", owner):
            yield _surname(m.group("name")), SEOUL, None
        else:
            yield _surname(m.group("name")), OTHER, _one(actors_in(owner))


def _one(actors: list[str]) -> str | None:
    return actors[0] if len(actors) == 1 else None


# A person named as a country's own, with no title: "South Korea's Kang Kyung-wha", "China's Wang Yi".
_POSSESSED_NAME = re.compile(r"\b(?P<owner>South Korea|Seoul|North Korea|China|Beijing|Japan|Tokyo|Russia|Moscow|"
                             r"Pyongyang|America|Washington)(?:'s|’s)\s+(?:(?:top|chief|new|former|then|veteran|"
                             r"senior)\s+)?(?P<name>[A-Z][a-z]{1,10}(?:\s+[A-Z][a-z]+(?:-[A-Za-z][a-z]+)?)?)\b"
                             r"(?![ \t]+[A-Z])(?!'s|’s)")


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


def english_side(sentence: str, names: dict[str, str] | None = None) -> str | None:
    names = names or {}
    tag = _EN_TAG.match(sentence)
    if tag:  # a broadcast soundbite: '[Soundbite] Yoon Suk Yeol(President) : "..."'
        who = tag.group("who")
        if FOREIGN.search(who) or actors_in(who):
            return OTHER
        if _SEOUL_SIDE.search(who) or re.search(r"President|Minister|[Ss]pokes|[Oo]fficial|Ministry", who) or \
                names.get(_surname(who.split("(")[0].strip() or "x")) == SEOUL:
            return SEOUL
    if _quoted_outsider(sentence):
        # '"Seoul must respond firmly," said Lim Eul-chul, a professor at ...': the speaker's own description
        # outranks a namesake placed elsewhere in the article (Deputy National Security Adviser Lim Jong-deuk)
        return OTHER
    said = _NAME_SAID.search(sentence)
    if said and names.get(said.group("surname") or said.group("surname2")):
        return names[said.group("surname") or said.group("surname2")]  # '"...," Park said'
    if _EN_PRONOUN_SPEAKER.search(sentence):
        return CARRY  # '"Seoul should ...," he said': the quote's words are not its speaker
    if has_seoul_voice(sentence) or _JOINT.search(sentence):
        if _RELAYED.search(sentence):
            return None  # "Yoon said Moscow had told Seoul it would investigate": the other side's message, relayed
        return SEOUL
    pair = _PAIR_AGREED.match(strip_lead(sentence))
    if pair and _SEOUL_SIDE.search(pair.group("agent")) and not VERB.search(pair.group("agent")):
        return SEOUL  # "Japanese Prime Minister Abe and South Korean President Moon agreed": a joint act
    lead = _NAME_LEAD.match(strip_lead(sentence))
    if lead and names.get(lead.group("surname")):
        return names[lead.group("surname")]  # "Kang sought Moscow's help ..."
    if lead and lead.group("surname") in _KO_SURNAMES and lead.group("given") and not actors_in(sentence[:40]) \
            and SPEECH_VERB.match(sentence[lead.end() - 1:]):
        return SEOUL  # "Park Jin said the ROK is willing ...": a Korean name speaking in a story about Seoul
    found = agents(sentence)
    if found and any(_short_foreign(a) for a in found):
        # a named speaker of another side; a pronoun-led sentence keeps the current one
        if not _EN_CARRY_START.match(sentence):
            return OTHER
    if _EN_CARRY_START.match(sentence):
        return CARRY
    head = strip_lead(sentence)[:60]
    foreign = FOREIGN.search(head)
    if foreign and foreign.start() <= 4:
        return OTHER  # no verb we know, but the sentence opens on someone else: "Chinese ... spokesperson X answered"
    return None


def _short_foreign(agent: str) -> bool:
    """An agent phrase headed by another side: "China's foreign ministry", "Japanese Prime Minister Kishida"."""
    m = FOREIGN.search(agent)
    first = actors_in(agent[:40])
    return len(agent) <= 90 and ((m is not None and m.start() <= 25) or bool(first))

