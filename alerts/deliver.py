"""Delivery of recorded alerts through apprise, one channel (apprise URL) at a time, from the outbox.

Guarantee: at most once per (alert, channel). A delivery is marked `sending` in the store (committed)
before apprise is called and `sent` after. A run killed between those two leaves `sending`; the next run
does not resend it but marks it `unknown` for a person to check (`kstance alerts`), because a duplicate
alert to a newsroom desk costs more trust than one that must be confirmed by hand.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

import apprise

from alerts.render import CHECK_SUBJECT, check_message, html_body, slack_body, subject, text_body
from classifiers.shifts import Shift
from extractors import redact
from vocab.errors import InputError

log = logging.getLogger(__name__)


class BadAlertURL(InputError, ValueError):
    pass


@dataclass(frozen=True)
class Channel:
    key: str  # stable name stored with each delivery: schema and a hash of the URL, never the URL itself
    url: str = field(repr=False)  # holds the channel's password or token

    @property
    def schema(self) -> str:
        return self.url.split(":", 1)[0].lower()


def channel_key(url: str) -> str:
    schema = url.split(":", 1)[0].lower()
    if schema in ("http", "https") and "hooks.slack.com" in url:
        schema = "slack"
    return f"{schema}:{hashlib.sha256(url.encode()).hexdigest()[:8]}"


def parse_channels(urls) -> list[Channel]:
    """Check every apprise URL at start-up; a bad one is named (masked) in the error, not at the first alert.
    `urls`: strings or SecretStr (as Settings holds them)."""
    out = []
    plain = (u.get_secret_value() if hasattr(u, "get_secret_value") else u for u in urls)
    for i, url in enumerate(u.strip() for u in plain if u and u.strip()):
        plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
        if plugin is None:
            raise BadAlertURL(f"alert URL #{i + 1} ({mask(url)}) is not a URL apprise can send to")
        out.append(Channel(channel_key(url), url))
    return out


def mask(url: str) -> str:
    """A URL with everything but its scheme and host hidden: safe for logs and errors (one function for all)."""
    return redact.mask_url(url)


def send(channel: Channel, sh: Shift, *, historical: bool = False, links=None,
         report_url: str | None = None) -> str | None:
    """Send one alert to one channel. Returns None on success, else a one-line error with no secret in it.
    `links`: canonical URL -> what the source served (see store.repository.article_links)."""
    kw = {"historical": historical, "links": links, "report_url": report_url}
    if channel.schema in ("mailto", "mailtos"):
        body, fmt = html_body(sh, **kw), apprise.NotifyFormat.HTML
    elif channel.key.startswith("slack"):
        body, fmt = slack_body(sh, **kw), apprise.NotifyFormat.MARKDOWN
    else:
        body, fmt = text_body(sh, **kw), apprise.NotifyFormat.TEXT
    return notify(channel, subject(sh), body, fmt)


def send_check(channel: Channel) -> str | None:
    """`kstance alerts --test`: one clearly marked test message. None when sent, else the error (masked)."""
    from datetime import datetime, timezone

    sent_at = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return notify(channel, CHECK_SUBJECT, check_message(mask(channel.url), sent_at), apprise.NotifyFormat.TEXT)


def notify(channel: Channel, title: str, body: str, fmt) -> str | None:
    ap = apprise.Apprise()
    ap.add(channel.url)
    with apprise.LogCapture(level=logging.WARNING) as captured:
        try:
            ok = ap.notify(title=title, body=body, body_format=fmt)
        except Exception as exc:  # a plugin bug must not take the run down
            ok, captured_extra = False, f"{type(exc).__name__}"
        else:
            captured_extra = ""
    if ok:
        return None
    detail = (captured.getvalue().strip().splitlines() or [captured_extra or "delivery failed"])[-1]
    detail = detail.split(" - WARNING - ")[-1].split(" - ERROR - ")[-1]  # drop apprise's timestamp prefix
    return scrub(detail, channel.url)[:300]


def scrub(text: str, url: str) -> str:
    """Remove every secret-looking part of the URL (passwords, tokens, path segments) from a message."""
    return redact.scrub(text, url)


@dataclass(frozen=True)
class Outcome:
    state: str  # "sent", "failed" (certainly not delivered: safe to resend) or "unknown" (may have arrived)
    error: str | None = None


def send_observed(channel: Channel, sh: Shift, *, historical: bool = False, links=None,
                  report_url: str | None = None) -> Outcome:
    """send(), with what happened on the wire: a request that left and got no answer is `unknown`, never
    `failed` (alerts.wire)."""
    from alerts import wire

    with wire.observe() as events:
        error = send(channel, sh, historical=historical, links=links, report_url=report_url)
    state = wire.classify(error is None, events)
    if state == wire.UNKNOWN:
        detail = next(e.detail for e in events if e.outcome == wire.UNKNOWN)
        return Outcome(state, scrub(f"outcome unknown: {detail}", channel.url)[:300])
    return Outcome(state, error)
