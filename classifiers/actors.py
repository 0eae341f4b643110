"""The actors kstance follows, how texts name them, and who is speaking in a sentence."""
from __future__ import annotations

import re
from dataclasses import dataclass

ACTORS = ("US", "CN", "JP", "KP", "RU")
ACTOR_NAMES = {"US": "the United States", "CN": "China", "JP": "Japan", "KP": "North Korea", "RU": "Russia"}

# Aliases: countries, capitals, governments, leaders by period, institutions, Korean names.
# Patterns are matched case-sensitively where a lower-case word would be ambiguous ("us", "north").
_ALIASES: dict[str, list[str]] = {
    "US": [
        r"United States", r"U\.S\.(?:-led)?", r"US(?=[\s\-,.'’])", r"USA", r"America(?:n|ns)?\b", r"Washington",
        r"White House", r"Pentagon", r"State Department", r"USFK", r"Trump", r"Biden", r"Obama",
        r"Rubio", r"Blinken", r"Pompeo", r"Hegseth", r"Austin\b(?= said| told|, the)", r"Korea-U\.?S\.?",
        r"alliance with (?:the )?(?:U\.?S\.?|United States|Washington)", r"미국", r"한미", r"美",
    ],
    "CN": [
        r"China", r"Chinese", r"Beijing", r"Xi Jinping", r"\bXi\b", r"Wang Yi", r"Li Qiang", r"Zhongnanhai",
        r"PRC\b", r"중국", r"한중", r"中",
    ],
    "JP": [
        r"Japan(?:ese)?", r"Tokyo", r"\bAbe\b", r"Kishida", r"Ishiba", r"Takaichi", r"Suga\b", r"Kono\b",
        r"Hayashi", r"Iwaya", r"Motegi", r"Korea-Japan", r"일본", r"한일", r"日",
    ],
    "KP": [
        r"North Korea(?:n|ns)?", r"N\.\s?Korea(?:n)?", r"Pyongyang", r"Kim Jong[\s-]un", r"Kim Yo[\s-]jong",
        r"\bKim regime", r"DPRK", r"the North(?:'s|’s)?(?!east|west|ern| Atlantic| Pole)", r"inter-Korean",
        r"Kaesong", r"Panmunjom", r"\bNK\b", r"북한", r"북측", r"남북", r"김정은", r"平壤", r"北",
    ],
    "RU": [
        r"Russia(?:n|ns)?", r"Moscow", r"Kremlin", r"Putin", r"Lavrov", r"러시아", r"푸틴", r"露",
    ],
}
_PATTERNS = {a: re.compile("|".join(f"(?:{p})" for p in pats)) for a, pats in _ALIASES.items()}

# Who speaks for Seoul: the president (by period), the presidential office, ministries, the military,
# "Seoul"/"South Korea" as a government; and the Korean forms.
_SEOUL = re.compile(
    r"|".join([
        r"\bSeoul\b(?!'s opposition)", r"South Korea(?:n)?\b(?! (?:opposition|lawmakers?|civic|activists?|protesters?|media|newspapers?|conservatives?|progressives?))",
        r"\bROK\b", r"\bKorean government\b", r"\b[Tt]he government\b", r"\bPresident (?:Lee|Yoon|Moon|Park)\b",
        r"\b(?:Lee Jae-myung|Yoon Suk[ -]Yeol|Moon Jae-in|Han Duck-soo|Choi Sang-mok)\b",
        r"\b[Pp]resident(?:ial)?\b", r"Cheong Wa Dae", r"Blue House", r"\bYongsan\b", r"[Mm]inist(?:er|ry|ries)\b",
        r"\bNational Security (?:Office|Council|Adviser|Advisor)\b", r"\bJCS\b", r"Joint Chiefs", r"\b[Tt]he military\b",
        r"\b[Ss]pokes(?:person|man|woman)\b", r"\b[Aa]mbassador\b", r"\bofficials?\b", r"\b[Cc]andidate\b",
        r"\bLee\b", r"\bYoon\b", r"\bMoon\b", r"\bDefense\b", r"\bUnification\b", r"\bNIS\b",
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


def has_seoul_voice(sentence: str) -> bool:
    """Whether a sentence names someone who speaks or acts for Seoul. A cheap filter before the model:
    a sentence with no Seoul actor in it (or in the sentence before it, for quote continuations)
    cannot carry Seoul's stance."""
    return bool(_SEOUL.search(sentence))
