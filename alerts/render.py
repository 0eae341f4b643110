"""What an alert says: a subject, plain text, HTML for email, mrkdwn for Slack. Article text is escaped
in every form, so a headline cannot inject markup, links or mentions."""
from __future__ import annotations

import html
import re

from classifiers.actors import ACTOR_NAMES
from classifiers.shifts import Shift
from extractors.urls import safe_link

_COUNTRY = {"US": "the US", "CN": "China", "JP": "Japan", "KP": "North Korea", "RU": "Russia"}


def subject(sh: Shift) -> str:
    return f"Seoul's stance toward {_COUNTRY[sh.actor]}: {sh.from_stance} -> {sh.to_stance}"


def summary_line(sh: Shift) -> str:
    return (f"Between {sh.first_date} and {sh.detected_at}, {len(sh.articles)} articles moved Seoul's stance toward "
            f"{ACTOR_NAMES[sh.actor]} from {sh.from_stance} ({sh.from_score:+.2f}) to {sh.to_stance} "
            f"({sh.to_score:+.2f}); magnitude {sh.magnitude:.2f}, confidence {sh.confidence:.2f}.")


def text_body(sh: Shift, *, historical: bool = False) -> str:
    lines = [summary_line(sh)]
    if historical:
        lines.append("(Historical: found while replaying an archive.)")
    lines += ["", "Evidence:"]
    for e in sh.evidence:
        lines += [f"- \"{_plain(e.sentence)}\"", f"  {_plain(e.title)} ({e.published}) {e.url}"]
    lines += ["", "Articles:"] + [f"- {u}" for u in sh.articles]
    return "\n".join(lines)


def html_body(sh: Shift, *, historical: bool = False) -> str:
    esc = html.escape
    items = "".join(
        f"<li><blockquote>{esc(e.sentence)}</blockquote><a href=\"{esc(safe_link(e.url))}\">{esc(e.title or e.url)}</a>"
        f" ({esc(str(e.published))})<br><small>{esc(safe_link(e.url))}</small></li>"  # visible: the plain part keeps it
        for e in sh.evidence
    )
    note = "<p><em>Historical: found while replaying an archive.</em></p>" if historical else ""
    return (f"<h2>{esc(subject(sh))}</h2><p>{esc(summary_line(sh))}</p>{note}"
            f"<h3>Evidence</h3><ul>{items}</ul>"
            f"<p>{len(sh.articles)} articles; detected {esc(str(sh.detected_at))}.</p>")


def slack_body(sh: Shift, *, historical: bool = False) -> str:
    """Slack mrkdwn, written for apprise's Slack plugin, which entity-escapes &, < and > itself (so kstance does
    not: once is right) and then turns `!word>`, `@word>`, `!word|...>`, `@word|...>` and `https://...>` back
    into live Slack tokens. Article text is neutralised before it gets there (_slack_text), and hrefs carry
    no `!` or `@`, so no title or sentence can become a mention, a channel ping or a link."""
    lines = [f"*{subject(sh)}*", summary_line(sh)]
    if historical:
        lines.append("_Historical: found while replaying an archive._")
    for e in sh.evidence:
        lines.append(f"> {_slack_text(e.sentence)}")
        lines.append(f"<{_slack_href(e.url)}|{_slack_text(e.title or 'article')}> ({e.published})")
    return "\n".join(lines)


def _plain(text: str) -> str:
    """One line of untrusted text for plain-text channels, with @mentions (@everyone, @here, @channel, @all,
    @user) defused by a zero-width space: Discord, Mattermost, Teams and others read them in plain text too."""
    return re.sub(r"@(?=\w)", "@\u200b", " ".join(str(text).split()))


def _slack_href(url: str) -> str:
    url = safe_link(url)
    for ch, enc in (("|", "%7C"), (">", "%3E"), ("<", "%3C"), (" ", "%20"), ("@", "%40"), ("!", "%21")):
        url = url.replace(ch, enc)
    return url


# Slack's mrkdwn has no escape character: the characters that open a token or a format in untrusted text are
# swapped for their full-width forms, which read the same and which neither Slack nor apprise parses.
_SLACK_NEUTRAL = str.maketrans({"!": "\uff01", "@": "\uff20", "<": "\uff1c", ">": "\uff1e", "|": "\uff5c",
                                "*": "\uff0a", "_": "\uff3f", "~": "\uff5e", "`": "\uff40"})


def _slack_text(text: str) -> str:
    """Untrusted text (a headline, an evidence sentence) made inert for Slack and for apprise's Slack plugin."""
    text = " ".join(str(text).split()).translate(_SLACK_NEUTRAL)
    return re.sub(r"(?i)(https?|mailto|ftp|file):(?=//)", "\\1:\u2060", text)  # no bare URL to link or to rewrite
