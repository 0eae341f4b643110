"""Does an article concern South Korea's foreign relations with the followed actors?"""
from __future__ import annotations

import re

from classifiers.actors import actors_in

_KOREA = re.compile(
    r"\bSeoul\b|South Korea|\bROK\b|Republic of Korea|Korean (?:government|president|foreign|defense|unification)"
    r"|President (?:Lee|Yoon|Moon)\b|Lee Jae-myung|Yoon Suk[ -]Yeol|Moon Jae-in|Cheong Wa Dae|inter-Korean"
    r"|한국|정부|대통령|외교부|통일부|국방부|청와대|대통령실|남북"
)


def relevance(title: str, text: str) -> tuple[bool, str | None]:
    """(True, None) when kept, else (False, the reason it was skipped)."""
    sample = f"{title}\n{text[:20000]}"
    if not _KOREA.search(sample):
        return False, "does not concern South Korea"
    actors = actors_in(sample)
    if not actors:
        return False, "names none of the followed actors (US, CN, JP, KP, RU)"
    return True, None
