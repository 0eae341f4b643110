"""Who speaks in a Korean sentence: a transcript's speaker tag (<답변>, [윤석열 / 대통령]), a headline's
'speaker "quote"', the main clause's subject (정부는, 그는, 외교부가), or a quote or dropped subject that carries
on the current speaker."""
from __future__ import annotations

import re

from classifiers.actors import actors_in
from classifiers.sides import CARRY, OTHER, SEOUL

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
_KO_OWN_ENVOY = re.compile(r"(?:^|\s)주(?:러시아|러|중국|중|일본|일|미국|미|유엔)\s?(?:한국\s?)?"
                           r"(?:대사관?|공사|총영사관?|영사|대표부|대사대리)(?:$|\s)")
# a connective ending closing a subordinate clause: 가까워지면서, 발사하자, 늘었지만
_KO_CONNECTIVE = re.compile(r"(?:면서|면서도|지만|는데|니까|아서|어서|해서|하자|되자|지자|하면|되면)$")
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


def korean_subject(np: str) -> str | None:
    """Classify a subject noun phrase (without its particle)."""
    np = np.strip()
    if not np:
        return None
    if _KO_PRONOUN.match(np):
        return CARRY
    if _KO_OWN_ENVOY.search(np):
        return SEOUL  # "이석배 주러시아 대사": Seoul's envoy in Moscow (but "주한 러시아대사" is Moscow's in Seoul)
    foreign = [a for a in actors_in(np)]
    joint = re.match(r"^(?:한|남북|우리)", np)
    if (foreign and not joint) or _KO_OTHER.search(np):
        return OTHER
    if _KO_SEOUL.search(np):
        return SEOUL
    return None


def korean_side(sentence: str) -> tuple[str | None, str]:
    """(side, the sentence without a dateline, byline or speaker tag)."""
    s = _KO_DATELINE.sub("", sentence, count=1)
    side, s = _tag_side(s)
    if side in (SEOUL, OTHER):
        return side, s
    side = _headline_side(s) or _headline_comma_side(s)
    if side in (SEOUL, OTHER):
        return side, s
    bare = _KO_QUOTE.sub(" ", s)
    side, any_subject = _clause_subject(bare.split())
    if side:
        return side, s
    if s.lstrip().startswith(("“", "\"", "‘")) or _KO_CONTINUE.match(s.strip()) or _KO_SPEECH_END.search(bare.strip()):
        return CARRY, s
    if not any_subject and _KO_PREDICATE_END.search(bare.strip()):
        return CARRY, s  # Korean drops the subject that goes on: "(박 대통령은) 아베 총리와는 ... 합의했다"
    return None, s


def _tag_side(s: str) -> tuple[str | None, str]:
    """A transcript's speaker tag: (SEOUL or OTHER when it tells, else None; the sentence, without a <tag>)."""
    tag = _KO_TAG.match(s)
    if not tag:
        return None, s
    if tag.group("tag"):
        name = tag.group("tag").strip()
        s = s[tag.end():]
        if name in ("답변", "답", "A"):
            return SEOUL, s  # a briefing transcript's answers are the spokesperson's
        if name in ("질문", "문", "Q", "앵커", "기자", "리포트"):
            return OTHER, s
        return None, s
    who = korean_subject(tag.group("who"))
    if who not in (SEOUL, OTHER) and len(tag.group("rest")) <= 15:  # "[윤석열 / 대통령]"
        who = korean_subject(f"{tag.group('who').strip()} {tag.group('rest').strip(' ]')}")
    return (who if who in (SEOUL, OTHER) else None), s


def _headline_side(s: str) -> str | None:
    """A headline's 'speaker “quote”': '…외교부 “우려·유감 전달”'."""
    head = _KO_HEADLINE_SPEAKER.match(s)
    if not head:
        return None
    who = re.split(r"[…,·]|\.\.\.", head.group("who"))[-1].split()
    return korean_subject(" ".join(who)) if 0 < len(who) <= 3 and not any(
        _KO_PARTICLE.match(w) or _KO_MODIFIER.search(w) for w in who) else None


# a headline's subject before a comma, its verb a noun at the end:
# "외교부, 日 영토·주권전시관 재개관에 총괄공사대리 초치"
_KO_HEADLINE_COMMA = re.compile(r"^\s*(?P<who>[^\s,“\"‘]{1,12}(?:\s[^\s,“\"‘]{1,12}){0,2}),\s")


def _headline_comma_side(s: str) -> str | None:
    """A headline's 'subject, ...' (정부, 외교부, 윤 대통령, 日): a sentence that ends on a predicate is no headline
    ("영광스러운 역사든, ... 안 됩니다")."""
    head = _KO_HEADLINE_COMMA.match(s)
    if not head or _KO_PREDICATE_END.search(_KO_QUOTE.sub(" ", s).strip()):
        return None
    return korean_subject(head.group("who"))


def _clause_subject(tokens: list[str]) -> tuple[str | None, bool]:
    """The main clause's subject: the first topic-marked phrase (정부는, 그는) that names a side, else the last
    subject-marked one (이/가): in "미국이 ... 발동하자 정부가 ... 제소했다" the first subject is the
    subordinate clause's. Also whether any subject-marked phrase was seen."""
    topic, subject, any_subject, subject_at = None, None, False, 0
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
        side = korean_subject(" ".join(words))
        if not side:
            continue
        if tok.rstrip(",.").endswith(("은", "는", "께서는", "측은")):
            topic = topic or side
            break
        if any(_KO_REGARDING.match(tokens[j]) and (tokens[j - 1] in ("데", "것", "점") or tokens[j - 1].endswith(
                ("다는", "하는", "있는", "것과", "데")))
               for j in range(i + 2, min(len(tokens), i + 12))):
            continue  # "중국 당국이 ... 막고 있다는 데 대해서는": the subject of what is talked about
        subject, subject_at = side, i
    if not topic and subject and any(_KO_CONNECTIVE.search(t.rstrip(",.")) for t in tokens[subject_at + 1:25]):
        # "러시아와 북한이 가까워지면서 ... 좁아졌다고 진단했습니다": that subject is the subordinate clause's; the main
        # clause's own is dropped (it goes on from the sentence before)
        return None, False
    return topic or subject, any_subject


def opens_with_tag(sentence: str) -> bool:
    """A transcript's speaker tag ("[윤석열 / 대통령]", "<답변>") opens the sentence, after any dateline."""
    return bool(_KO_TAG.match(_KO_DATELINE.sub("", sentence, count=1)))
