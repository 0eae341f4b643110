"""The one console every command prints through, and untrusted text made inert for a terminal or a JSON line.
Light on purpose (rich is imported when a console is made): the command line's usage errors import only this."""
from __future__ import annotations

import json
import sys

# C0 and C1 control characters, DEL, and the bidirectional overrides (which reorder what the terminal shows);
# newlines and tabs become spaces
_INERT = {c: None for c in [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), 0x200E, 0x200F, *range(0x202A, 0x202F),
                            *range(0x2066, 0x206A)]}
_INERT.update({0x09: " ", 0x0A: " ", 0x0D: " "})
_JSON_C1 = {c: f"\\u{c:04x}" for c in [0x7F, *range(0x80, 0xA0), 0x2028, 0x2029, 0x200E, 0x200F,
                                        *range(0x202A, 0x202F), *range(0x2066, 0x206A)]}


def console(stderr: bool = False):
    """The one console every command prints through (stderr=True: progress lines)."""
    from rich.console import Console

    class InertConsole(Console):
        """Every string printed is untrusted text (titles, evidence, errors, file names): markup and emoji codes
        are off and control characters removed, so `[/]`, `[link=...]` or an ESC sequence prints as inert text."""

        def print(self, *objects, **kwargs):
            super().print(*(inert(o) if isinstance(o, str) else o for o in objects), **kwargs)

    # piped into a log (make demo | tee, CI), rich would assume 80 columns and fold the tables
    stream = sys.stderr if stderr else sys.stdout
    return InertConsole(highlight=False, soft_wrap=False, markup=False, emoji=False, stderr=stderr,
                        width=None if stream.isatty() else 132)


def inert(text: str, keep_newlines: bool = True) -> str:
    """Untrusted text made safe for a terminal: control characters removed (newlines kept, if asked)."""
    text = str(text)
    if keep_newlines:
        return "\n".join(line.translate(_INERT) for line in text.split("\n"))
    return text.translate(_INERT)


def jsonl(rec: dict) -> str:
    """One JSON line for stdout: JSON escapes C0 controls itself; C1 controls and bidi overrides are escaped too."""
    return json.dumps(rec, ensure_ascii=False).translate(_JSON_C1)


def clip(text: str, n: int) -> str:
    """One line of at most n characters (whitespace folded, an ellipsis where it was cut)."""
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "\u2026"


def one_line(text: str) -> str:
    return " ".join(str(text).split())
