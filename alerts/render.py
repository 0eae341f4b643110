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
    lines = [f"*{_mrkdwn(subject(sh))}*", _mrkdwn(summary_line(sh))]
    if historical:
        lines.append("_Historical: found while replaying an archive._")
    for e in sh.evidence:
        lines.append(f"> {_mrkdwn(e.sentence)}")
        lines.append(f"<{_slack_href(e.url)}|{_mrkdwn(e.title or 'article')}> ({e.published})")
    return "\n".join(lines)


def _plain(text: str) -> str:
    return " ".join(str(text).split())


def _slack_href(url: str) -> str:
    url = safe_link(url)
    return url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C").replace(" ", "%20")


def _mrkdwn(text: str) -> str:
    """Slack's mrkdwn escaping: &, < and > become entities (so no <!channel>, <@U..> or <url|label> can be
    formed), and bare @channel/@here/@everyone are defused with a zero-width joiner."""
    text = _plain(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"@(channel|here|everyone)\b", "@\u200b\\1", text, flags=re.I)
