"""What an analyst asks of kstance between runs: check the alert channels, query the stored judgments, quiet a
target, acknowledge an alert. The command-line side of each lives in flows/cli_analyst.py; the work is here."""
from __future__ import annotations

import csv
import io
from datetime import date

from vocab.errors import InputError


class AnalystError(InputError, ValueError):
    """Bad input to one of these commands; the message is one line."""


# -- kstance alerts --test -----------------------------------------------------------------------

def check_channels(settings, console) -> tuple[int, int]:
    """Send one test message through every configured channel; print, per channel, sent or the error
    (secrets masked). Returns (sent, failed)."""
    from alerts.deliver import mask, parse_channels, send_check

    channels = parse_channels(settings.alert_urls)
    if not channels:
        raise AnalystError("no alert channel is configured: set KSTANCE_ALERT_URLS (or alert_urls in kstance.toml)")
    sent = failed = 0
    for ch in channels:
        error = send_check(ch)
        if error is None:
            sent += 1
            console.print(f"sent    {ch.key}  {mask(ch.url)}", markup=False, soft_wrap=True)
        else:
            failed += 1
            console.print(f"FAILED  {ch.key}  {mask(ch.url)}: {error}", style="red", markup=False, soft_wrap=True)
    return sent, failed


# -- kstance judgments ---------------------------------------------------------------------------

JUDGMENT_FIELDS = ("date", "outlet", "title", "url", "actor", "stance", "score", "confidence", "evidence")


def parse_day(label: str, value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise AnalystError(f"{label} must be a date like 2024-06-30, not {value!r}") from None


def parse_actor(value: str | None, label: str = "--actor") -> str | None:
    from classifiers.actors import ACTORS

    if value is None:
        return None
    if value.upper() not in ACTORS:
        raise AnalystError(f"{label} must be one of {', '.join(ACTORS)}, not {value!r}")
    return value.upper()


def judgment_records(store, *, actor=None, since=None, until=None, stance=None) -> list[dict]:
    from store import repository as repo

    out = []
    for r in repo.judgments(store, actor=actor, since=since, until=until, stance=stance):
        out.append({"date": r["published"].isoformat() if r["published"] else None, "outlet": r["outlet"],
                    "title": r["title"], "url": r["link"], "actor": r["actor"], "stance": r["stance"],
                    "score": round(r["score"], 4), "confidence": round(r["confidence"], 4),
                    "evidence": list(r["evidence"]), "key": r["url"]})
    return out


# control characters (but the newline between evidence quotes, inside a quoted cell), DEL, C1 and the bidi
# overrides: the CSV may be read on a terminal, and an ESC sequence from a web page must not drive it
_CSV_INERT = {c: None for c in [*range(0x00, 0x0A), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0), 0x200E, 0x200F,
                                *range(0x202A, 0x202F), *range(0x2066, 0x206A)]}


def _cell(text: str) -> str:
    """A spreadsheet reads a cell that starts with = + - @ (or a tab/CR) as a formula: headlines come from
    the web, so such text cells get a leading apostrophe (the OWASP advice for CSV injection)."""
    text = text.translate(_CSV_INERT)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def judgments_csv(records: list[dict]) -> str:
    """CSV as spreadsheets open it: a header row, RFC 4180 quoting (csv module), CRLF line ends, evidence
    quotes joined by newlines inside one quoted cell, and a UTF-8 byte-order mark so Excel reads Hangul."""
    buf = io.StringIO()
    w = csv.writer(buf, dialect="excel")
    w.writerow(JUDGMENT_FIELDS)
    for r in records:
        w.writerow([r["date"] or "", _cell(r["outlet"] or ""), _cell(r["title"] or ""), _cell(r["url"]), r["actor"],
                    r["stance"], f"{r['score']:.2f}", f"{r['confidence']:.2f}",
                    _cell("\n".join(" ".join(e.split()) for e in r["evidence"]))])
    return "\ufeff" + buf.getvalue()


def judgments_jsonl(records: list[dict]) -> str:
    from flows.console import jsonl  # C1 controls and bidi overrides escaped too, as every JSONL kstance prints

    return "".join(jsonl(r) + "\n" for r in records)


# -- kstance mute / unmute / alerts --ack --------------------------------------------------------

def ack_alert(store, alert_id: str) -> str:
    from store import repository as repo

    alert_id = alert_id.strip().lower()
    if len(alert_id) < 6 or not all(c in "0123456789abcdef" for c in alert_id):
        raise AnalystError(f"give at least 6 characters of the alert id (hexadecimal), not {alert_id!r}")
    found = repo.ack_alert(store, alert_id)
    if not found:
        raise AnalystError(f"no alert with an id starting {alert_id!r} (see `kstance alerts --format jsonl`)")
    if len(found) > 1:
        raise AnalystError(f"{alert_id!r} matches {len(found)} alerts; give more of the id")
    return found[0]
