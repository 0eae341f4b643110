"""The vocabulary of speaker attribution shared by the English and Korean readers (classifiers.attribution_en,
classifiers.attribution_ko) and the candidate selection (classifiers.speakers)."""
from __future__ import annotations

import re

SEOUL, OTHER, CARRY = "seoul", "other", "carry"  # CARRY: the sentence continues the current speaker

SPEECH_VERB = re.compile(r"\b(?:said|says|told|warned|stated|claimed|argued|insisted|added|urged|demanded|accused|"
                         r"noted|"
                         r"stressed|explained|emphasi[sz]ed)\b|"
                         r"밝혔|말했|주장했|비난했|요구했|강조했|경고했")
