"""The actors kstance follows, how texts name them, and who is speaking in a sentence."""
from __future__ import annotations

import re
from dataclasses import dataclass

ACTORS = ("US", "CN", "JP", "KP", "RU")
ACTOR_NAMES = {"US": "the United States", "CN": "China", "JP": "Japan", "KP": "North Korea", "RU": "Russia"}

# Korean names. Hangul has no word boundaries: a one-syllable abbreviation (미, 중, 일, 북, 러) counts only where
# wire copy uses it for the country: joined to another by "·" or in a fixed compound (한미, 미중, 남북, 북핵),
# or before a government noun. "중" alone is "during"/"middle" and "일" a day, never China or Japan; "북쪽" and
# "동북아" are directions. _H: not preceded by a Hangul syllable (so "방미" is written out, "경북" is no hit).
_H = r"(?<![\uac00-\ud7a3])"
_GOV = r"(?:정부|측|당국|대통령|국무부|국방부|외교부|외무성|행정부|의회|대사관?|총리|정상|군)"
_KO_US = [r"미국", r"한미", r"한·미", r"美", _H + r"미(?=·)", r"(?<=·)미" + r"(?![\uac00-\ud7a3])",
          _H + r"미\s(?=" + _GOV + ")",
          _H + r"미(?=중|일|러)(?![\uac00-\ud7a3]{2})", r"주한미군", r"방미",
          r"대미(?=\s?(?:관계|외교|정책|협상|통상))",
          r"북미(?=\s?(?:정상|대화|협상|회담|관계))", r"워싱턴", r"백악관", r"트럼프", r"바이든", r"오바마", r"펜타곤"]
_KO_CN = [r"중국", r"한중", r"한·중", r"中", _H + r"중(?=·)", r"(?<=·)중(?![\uac00-\ud7a3])",
          r"(?<=[미북])중(?=\s|$|[,.·]|관계|갈등|정상)",
          _H + r"중측", r"방중", r"베이징", r"시진핑", r"시\s?주석", r"왕이(?=\s?(?:중국|외교부장|부장))", r"리창"]
_KO_JP = [r"일본", r"한일", r"한·일", r"日", r"(?<=한미)일", r"(?<=한중)일", r"(?<=·)일(?![\uac00-\ud7a3])",
          r"(?<=[미북]·)일",
          _H + r"일(?=·)", r"방일", r"도쿄", r"기시다", r"이시바", r"다카이치", r"아베(?=\s?(?:신조|총리|정부|내각))",
          r"스가(?=\s?(?:총리|요시히데))"]
_KO_KP = [r"북한", r"북측", r"남북", r"北", r"김정은", r"김여정", r"평양", r"북핵", r"대북", r"방북", r"북·",
          r"(?<=·)북(?![\uac00-\ud7a3])",
          _H + r"북(?=[러중미일]\s|\s|[,.]|[은이의에과도을](?![\uac00-\ud7a3]))", r"북러", r"러북", r"북중",
          r"북미(?=\s?(?:정상|대화|협상|회담|관계))",
          r"조선중앙통신", r"노동신문", r"조선노동당"]
_KO_RU = [r"러시아", r"한러", r"한·러", r"露", _H + r"러(?=[·\s]|측|북)", r"(?<=[·북])러(?![\uac00-\ud7a3])",
          r"모스크바", r"푸틴", r"크렘린", r"라브로프"]

# Aliases: countries, capitals, governments, leaders by period, institutions, Korean names.
# Patterns are matched case-sensitively where a lower-case word would be ambiguous ("us", "north").
_ALIASES: dict[str, list[str]] = {
    "US": [
        r"United States", r"U\.S\.(?:-led)?", r"US(?=[\s\-,.'’])", r"USA", r"America(?:n|ns)?\b", r"Washington",
        r"White House", r"Pentagon", r"State Department", r"USFK", r"Trump", r"Biden", r"Obama",
        r"Rubio", r"Blinken", r"Pompeo", r"Hegseth", r"Austin\b(?= said| told|, the)", r"Korea-U\.?S\.?",
        r"alliance with (?:the )?(?:U\.?S\.?|United States|Washington)", r"美", *_KO_US,
    ],
    "CN": [
        r"China", r"Chinese", r"Beijing", r"Xi Jinping", r"\bXi\b", r"Wang Yi", r"Li Qiang", r"Zhongnanhai",
        r"PRC\b", r"中", *_KO_CN,
    ],
    "JP": [
        r"Japan(?:ese)?", r"Tokyo", r"\bAbe\b", r"Kishida", r"Ishiba", r"Takaichi", r"Suga\b", r"Kono\b",
        r"Hayashi", r"Iwaya", r"Motegi", r"Korea-Japan", r"日", *_KO_JP,
    ],
    "KP": [
        r"North Korea(?:n|ns)?", r"N\.\s?Korea(?:n)?", r"Pyongyang", r"Kim Jong[\s-]un", r"Kim Yo[\s-]jong",
        r"\bKim regime", r"DPRK", r"the North(?:'s|’s)?(?!east|west|ern| Atlantic| Pole)", r"inter-Korean",
        r"Kaesong", r"Panmunjom", r"\bNK\b", r"平壤", r"北", *_KO_KP,
    ],
    "RU": [
        r"Russia(?:n|ns)?", r"Moscow", r"Kremlin", r"Putin", r"Lavrov", r"露", *_KO_RU,
    ],
}
_PATTERNS = {a: re.compile("|".join(f"(?:{p})" for p in pats)) for a, pats in _ALIASES.items()}

# Who speaks for Seoul: the president (by period), the presidential office, ministries, the military,
# "Seoul"/"South Korea" as a government; and the Korean forms.
_SEOUL = re.compile(
    r"|".join([
        r"\bSeoul\b(?!'s opposition)",
        r"South Korea(?:n)?\b(?! (?:opposition|lawmakers?|civic|activists?|protesters?|media|newspapers?|"
        r"conservatives?|progressives?))",
        r"\bROK\b", r"\bKorean government\b", r"\b[Tt]he government\b", r"\bPresident (?:Lee|Yoon|Moon|Park)\b",
        r"\b(?:Lee Jae-myung|Yoon Suk[ -]Yeol|Moon Jae-in|Han Duck-soo|Choi Sang-mok)\b",
        r"\b[Pp]resident(?:ial)?\b", r"Cheong Wa Dae", r"Blue House", r"\bYongsan\b", r"[Mm]inist(?:er|ry|ries)\b",
        r"\bNational Security (?:Office|Council|Adviser|Advisor)\b", r"\bJCS\b", r"Joint Chiefs",
        r"\b[Tt]he military\b",
        r"\b[Ss]pokes(?:person|man|woman)\b", r"\b[Aa]mbassador\b", r"\bofficials?\b", r"\b[Cc]andidate\b",
        r"\bLee\b", r"\bYoon\b", r"\bMoon\b", r"\bDefen[cs]e\b", r"\bUnification\b", r"\bNIS\b",
        r"(?i:\b(?:air force|navy|army|marine corps|coast guard|intelligence service|joint chiefs|national security|"
        r"security council|trade envoy|embassy|consulate|delegation|envoy|negotiators?|prime minister|premier|cabinet|"
        r"vice minister|first lady)\b)",
        r"정부", r"대통령", r"청와대", r"대통령실", r"외교부", r"통일부", r"국방부", r"합참", r"우리 군",
    ])
)


@dataclass(frozen=True)
class Mention:
    actor: str
    start: int
    end: int
    text: str


def find_mentions(sentence: str) -> list[Mention]:
    out = []
    for actor, pat in _PATTERNS.items():
        for m in pat.finditer(sentence):
            out.append(Mention(actor, m.start(), m.end(), m.group(0)))
    out.sort(key=lambda m: m.start)
    return out


def actors_in(sentence: str) -> list[str]:
    """The actors a sentence names, in the order of their first mention."""
    seen: list[str] = []
    for m in find_mentions(sentence):
        if m.actor not in seen:
            seen.append(m.actor)
    return seen


# -- speaker attribution ----------------------------------------------------------------------------
# Who does or says what in a sentence, by the light means wire copy allows: the agent is the subject of
# the main clause (after a dateline and lead-in phrases) and, for quotes, the speaker of "..., X said".
_DATELINE = re.compile(r"^[A-Z][A-Za-z .,'-]{1,40}?(?:,\s*[A-Z][a-z]{2,4}\.?\s+\d{1,2})?\s*(?:\([^)]{1,40}\))?\s*(?:--|"
                       r"—|–|-(?=\s))\s*")
_LEAD = re.compile(
    r"^(?:(?:On|In|At|During|After|Before|Earlier|Later|Last|This|Meanwhile|However|But|Still|Also|Separately|"
    r"Meeting|Speaking|Asked|Addressing|Visiting|Following|Despite|Amid|Since|Under|With|While|When|As|For|"
    r"Notably|Instead|Yet|Now|Then|Together|Hours|Days|Weeks|Months|A day|Two days|[A-Z][a-z]+ing)\b[^,]{0,60},\s*)+")
_VERBS = (r"said|says|told|tells|warned|warns|added|noted|stressed|emphasi[sz]ed|urged|urges|called|calls|announced|"
          r"vowed|pledged|declared|argued|insisted|claimed|stated|wrote|asked|replied|responded|demanded|agreed|"
          r"agrees|decided|decides|will|would|could|should|may|might|must|has|have|had|is|are|was|were|plans|planned|"
          r"sent|sends|held|holds|signed|signs|summoned|lodged|protested|condemned|welcomed|offered|proposed|"
          r"rejected|refused|expressed|reaffirmed|confirmed|expects|expected|hopes|hoped|seeks|sought|launched|"
          r"fired|began|started|halted|suspended|resumed|imposed|lifted|joined|met|meets|visited|visits|"
          r"accused|criticized|criticised|slammed|praised|thanked|expelled|blocked|approved|announces|"
          r"reported|reports|quoted|cited|described|dismissed|denied|unveiled|released|moved|took|made|gave|"
          r"kept|keeps|remained|remains|opposed|supported|backed|struck|reached|completed|failed|continued|involved|"
          r"involves|included|includes|comes|came|marks|marked|shows|showed|raised|voiced|pressed|received|hailed|"
          r"opened|led|prayed|attended|hosted|introduced|discussed|issued|ordered|deployed|conducted|staged|"
          r"dispatched|called|set|won|lost|became|becomes|saw|sees|wants|wanted|needs|needed|tried|faces|faced")
VERB = re.compile(rf"\b(?:{_VERBS})\b")
_QUOTE_SPEAKER = re.compile(rf"(?:,|[”\"])\s*(?P<agent>[^,”\"“]{{2,90}}?)\s+(?:{_VERBS})\b")
_PARTICIPLE = re.compile(r"[a-z]+ing\b")
_SAID_AFTER = re.compile(r"[”\"’],?\s*(?:said|says|according to)\s+(?P<agent>[^,.;]{2,90})")
FOREIGN = re.compile(
    r"Chin(?:a|ese)|Beijing|Japan(?:ese)?|Tokyo|North Korea|N\.\s?Korea|Pyongyang|the North\b|Kim Jong[ -]?un|Kim Yo[ "
    r"-]?jong|KCNA|Rodong|"
    r"U\.S\.|\bUS\b|United States|America|Washington|White House|Pentagon|State Department|Russia|Moscow|Kremlin|"
    r"Putin|\bXi\b|Trump|Biden|Kishida|Ishiba|Takaichi|\bAbe\b|Suga|Lavrov|Wang Yi|Blinken|Rubio|"
    r"[Oo]pposition|[Ll]awmakers?|[Cc]ritics?|[Aa]nalysts?|[Ee]xperts?|[Oo]bservers?|[Aa]ctivists?|[Pp]rotesters?|"
    r"[Cc]ivic|[Mm]edia|[Nn]ewspapers?|[Ee]ditorial|[Pp]oll|[Ss]urvey|\bUN\b|United Nations|Democratic Party|"
    r"People Power|[Cc]onservatives?|[Pp]rogressives?|[Pp]rofessor|[Rr]esearcher|[Tt]hink tank|[Ii]nstitute|"
    r"[Uu]nion|[Ff]amilies|[Rr]esidents|[Cc]ompan(?:y|ies)|[Ff]irms?|[Ii]nvestors|[Tt]ourists|[Ss]tate media|"
    r"[Cc]ommentators?|[Dd]iplomatic sources|[Dd]efectors?|[Ff]ishermen|[Ww]orkers"
)
_AFTER_PREPOSITION = re.compile(r"\b(?:off|in|into|to|from|near|at|with|against|toward|towards|of|on|for|about|over|"
                                r"between|across|around|by|via|inside|outside|within)\s+(?:the\s+)?$", re.I)
# A Seoul-side subject whose head is not an actor: "South Korea's exports to China rose" is no stance of Seoul's.
_NOT_AGENT = re.compile(r"(?:Seoul|South Korea)(?:'s|’s|n)?\s+(?:exports?|imports?|shares|stocks|won|economy|trade|"
                        r"market|companies|firms|tourists|fans|population|GDP|growth|inflation|weather)\b")


# A bare time lead with no comma ("On Monday South Korea offered ..."): taken off alone, so that the general lead
# pattern does not read the main clause, up to its first comma, as a lead phrase.
_TIME_LEAD = re.compile(r"^(?:On|Last|This|Early|Late|Earlier)\s+(?:Monday|Tuesday|Wednesday|Thursday|Friday|"
                        r"Saturday|Sunday|week|month|year|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?"
                        r"(?:\s+\d{1,2})?)\s+(?=[A-Z])")


def strip_lead(sentence: str) -> str:
    s = sentence.strip().lstrip("\"“‘'(")
    s = _DATELINE.sub("", s, count=1)
    s = _TIME_LEAD.sub("", s, count=1)
    return _LEAD.sub("", s, count=1)


def agents(sentence: str) -> list[str]:
    """The phrases that act or speak in a sentence: the main clause's subject, and a quote's speaker."""
    out = []
    body = strip_lead(sentence)
    m = VERB.search(body)
    if m and m.start() <= 140:
        out.append(body[: m.start()])
    for pat in (_QUOTE_SPEAKER, _SAID_AFTER):
        for q in pat.finditer(sentence):
            if pat is _QUOTE_SPEAKER and _PARTICIPLE.match(q.group("agent")):
                continue  # ", raising concern that Seoul's decision could anger Beijing": a clause, no speaker
            out.append(q.group("agent"))
    return [a.strip() for a in out if a.strip()]


def _seoul_agent(agent: str) -> bool:
    """Seoul's side is named first in the agent phrase: "Seoul and Washington agreed", "Seoul's UN ambassador",
    "Yoon, Biden and Kishida voiced" count; "Beijing urged Seoul", "Chinese Ambassador ... and Foreign Minister
    Park" and "Japan's foreign ministry" do not."""
    seoul = _SEOUL.search(agent)
    if not seoul or seoul.start() > 30 or _NOT_AGENT.search(agent) or _AFTER_PREPOSITION.search(agent[: seoul.start()]):
        return False  # Seoul's side must head the phrase, not sit in a modifier ("drills off South Korea's coast")
    if _ROLE_OWNED.match(agent, seoul.end()) and not _SEOUL_NAMED.match(seoul.group(0)):
        return False  # a role word owned by another side: "Zakharova, spokesperson for Russia's Foreign Ministry"
    foreign = FOREIGN.search(agent)
    return foreign is None or seoul.start() < foreign.start()


# Seoul's side by name (as against a role word any government has: spokesperson, ministry, officials, envoy).
_SEOUL_NAMED = re.compile(r"Seoul|South Korea|ROK|Korean government|President (?:Lee|Yoon|Moon|Park)|"
                          r"(?:Lee|Yoon|Moon|Han|Choi)\b|Cheong Wa Dae|Blue House|Yongsan|Unification|NIS|JCS|"
                          r"Joint Chiefs|정부|대통령|청와대|외교부|통일부|국방부|합참")
# ... and a role word followed by its owner: "spokesperson for Russia's Foreign Ministry", "officials of China",
# "an envoy from Tokyo" (but "the ambassador to Beijing" is Seoul's own man there).
_ROLE_OWNED = re.compile(rf"[ \t]+(?:for|of|from)[ \t]+(?:the[ \t]+)?(?:{FOREIGN.pattern})")


def has_seoul_voice(sentence: str) -> bool:
    """Whether someone who speaks or acts for Seoul is the agent of the sentence: the subject of its main
    clause or the speaker of its quote. Seoul as an object or a place ("tours to South Korea", "Beijing urged
    Seoul to ...", "off South Korea's coast") does not count. When no agent can be found, the sentence counts
    if it names Seoul's side and no one else's."""
    found = agents(sentence)
    if found and any(_seoul_agent(a) for a in found):
        return True
    # no verb we know: the sentence's opening words decide (Seoul's side must head it, not sit in a modifier)
    head = strip_lead(sentence)[:140]
    m = _SEOUL.search(head)
    return not found and m is not None and m.start() <= 25 and _seoul_agent(head)
