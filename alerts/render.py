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


_METHOD = {"llr": "the likelihood-ratio CUSUM on the classifier's measured confusion",
           "score-cusum": "the score CUSUM"}


def how_found(sh: Shift) -> str | None:
    """How the detector found the shift, for a reader who wants to know how strong the signal was: the statistic
    at confirmation against its threshold, and (for the time-stated method) the article rate the threshold was set
    for. None for alerts recorded before this was kept."""
    if not sh.method:
        return None
    rate = f", set for this target's {sh.rate_per_day:.2g} articles a day" if sh.rate_per_day > 0 else ""
    return (f"Found by {_METHOD.get(sh.method, sh.method)}: statistic {sh.statistic:.2f} against a threshold of "
            f"{sh.threshold:.2f}{rate}.")


class _Item:
    """One evidence quote as a reader gets it: the quote (None when it only repeats the headline), the
    article's title, outlet, date and the link as the source served it."""

    def __init__(self, quote, title, outlet, published, link):
        self.quote, self.title, self.outlet, self.published, self.link = quote, title, outlet, published, link

    @property
    def source_line(self) -> str:
        return ", ".join(x for x in (self.outlet, str(self.published)) if x)


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", str(text).casefold()).split())


def repeats_headline(sentence: str, title: str) -> bool:
    """A quote that is only the headline again (extraction often returns the title as a first sentence)."""
    s, t = _norm(sentence), _norm(title)
    if not s or not t:
        return False
    return s == t or (s in t) or (t in s and len(s) <= len(t) * 1.15 + 3)


def _items(sh: Shift, links) -> list[_Item]:
    links = links or {}
    out = []
    for e in sh.evidence:
        info = links.get(e.url)
        link = info.link if info else e.url
        outlet = (info.outlet if info else "") or ""
        quote = None if repeats_headline(e.sentence, e.title) else e.sentence
        out.append(_Item(quote, e.title or "", outlet, e.published, link))
    return out


def _article_links(sh: Shift, links) -> list[str]:
    links = links or {}
    return [(links[u].link if u in links else u) for u in sh.articles]


def text_body(sh: Shift, *, historical: bool = False, links=None, report_url: str | None = None) -> str:
    """Plain text: each quote on its own line, then its headline, outlet and date, and the link; blank lines
    between items. `links` maps an article's canonical URL to what the source served (link, outlet)."""
    lines = [summary_line(sh)] + [x for x in [how_found(sh)] if x]
    if historical:
        lines.append("(Historical: found while replaying an archive.)")
    lines += ["", "Evidence:"]
    for it in _items(sh, links):
        lines.append("")
        if it.quote:
            lines.append(f"\u201c{plain_text(it.quote)}\u201d")
        if it.title:
            lines.append(f"    {plain_text(it.title)}")
        lines += [f"    {plain_text(it.source_line)}", f"    {it.link}"]
    arts = _article_links(sh, links)
    lines += ["", f"Articles ({len(arts)}):"] + [f"- {u}" for u in arts]
    if report_url:
        lines += ["", f"Report: {report_url}"]
    return "\n".join(lines)


def html_body(sh: Shift, *, historical: bool = False, links=None, report_url: str | None = None) -> str:
    """HTML for email, built from <div>s and <br>s so that the plain-text alternative apprise derives from it
    reads like text_body (one quote per line, then headline, outlet and date, and the link)."""
    esc = html.escape
    items = []
    for it in _items(sh, links):
        href = esc(safe_link(it.link))
        quote = (f"<div style=\"border-left:3px solid #adb5bd;padding-left:8px;font-style:italic\">"
                 f"\u201c{esc(plain_text(it.quote))}\u201d</div>") if it.quote else ""
        title = f"<div><a href=\"{href}\">{esc(plain_text(it.title))}</a></div>" if it.title else ""
        source_line = esc(plain_text(it.source_line))
        items.append(f"<br><div class=\"evidence\">{quote}{title}<div style=\"color:#495057\">{source_line}"
                     f"</div><div><small>{esc(it.link)}</small></div></div>")
    arts = "".join(f"<li><a href=\"{esc(safe_link(u))}\">{esc(u)}</a></li>" for u in _article_links(sh, links))
    note = "<p><em>Historical: found while replaying an archive.</em></p>" if historical else ""
    found = how_found(sh)
    found = f"<p style=\"color:#495057\">{esc(found)}</p>" if found else ""
    report = (f"<br><p>Report: <a href=\"{esc(safe_link(report_url))}\">{esc(report_url)}</a></p>"
              if report_url else "")
    return (f"<h2>{esc(subject(sh))}</h2><p>{esc(summary_line(sh))}</p>{found}{note}"
            f"<br><h3>Evidence:</h3>{''.join(items)}"
            f"<br><h3>Articles ({len(sh.articles)}):</h3><ul>{arts}</ul>{report}")


def slack_body(sh: Shift, *, historical: bool = False, links=None, report_url: str | None = None) -> str:
    """The same content in Slack's mrkdwn: each quote as a block quote, then the linked headline, outlet and date.
    Written for apprise's Slack plugin, which entity-escapes &, < and > itself (so kstance does not: once is
    right) and then turns `!word>`, `@word>`, `!word|...>`, `@word|...>` and `https://...>` back into live
    Slack tokens. Untrusted text is neutralised before it gets there (slack_text), and hrefs carry no `!` or
    `@`, so no title, sentence or outlet can become a mention, a channel ping or a link."""
    lines = [f"*{subject(sh)}*", summary_line(sh)] + [f"_{x}_" for x in [how_found(sh)] if x]
    if historical:
        lines.append("_Historical: found while replaying an archive._")
    for it in _items(sh, links):
        lines.append("")
        if it.quote:
            lines.append(f"> {slack_text(it.quote)}")
        lines.append(f"<{slack_href(it.link)}|{slack_text(it.title or 'article')}>  {slack_text(it.source_line)}")
    arts = _article_links(sh, links)
    lines += ["", f"{len(arts)} articles: " + " ".join(f"<{slack_href(u)}|{k + 1}>" for k, u in enumerate(arts))]
    if report_url:
        lines.append(f"Report: <{slack_href(report_url)}|{slack_text(report_url)}>")
    return "\n".join(lines)


CHECK_SUBJECT = "[kstance test] alert channel check"


def check_message(channel_name: str, sent_at: str) -> str:
    """The body of `kstance alerts --test`: clearly a test, so nobody on the desk acts on it."""
    return (f"This is a TEST message from kstance, sent {sent_at} by `kstance alerts --test` to check the channel "
            f"{channel_name}.\nIt is not an alert: nothing about Seoul's stance has changed. If you can read this, "
            f"kstance's alerts will reach you here.")


def plain_text(text: str) -> str:
    """One line of untrusted text for plain-text channels, with @mentions (@everyone, @here, @channel, @all,
    @user) defused by a zero-width space: Discord, Mattermost, Teams and others read them in plain text too."""
    return re.sub(r"@(?=\w)", "@\u200b", " ".join(str(text).split()))


def slack_href(url: str) -> str:
    url = safe_link(url)
    for ch, enc in (("|", "%7C"), (">", "%3E"), ("<", "%3C"), (" ", "%20"), ("@", "%40"), ("!", "%21")):
        url = url.replace(ch, enc)
    return url


# Slack's mrkdwn has no escape character: the characters that open a token or a format in untrusted text are
# swapped for their full-width forms, which read the same and which neither Slack nor apprise parses.
_SLACK_NEUTRAL = str.maketrans({"!": "\uff01", "@": "\uff20", "<": "\uff1c", ">": "\uff1e", "|": "\uff5c",
                                "*": "\uff0a", "_": "\uff3f", "~": "\uff5e", "`": "\uff40"})


def slack_text(text: str) -> str:
    """Untrusted text (a headline, an evidence sentence) made inert for Slack and for apprise's Slack plugin."""
    text = " ".join(str(text).split()).translate(_SLACK_NEUTRAL)
    return re.sub(r"(?i)(https?|mailto|ftp|file):(?=//)", "\\1:\u2060", text)  # no bare URL to link or to rewrite
