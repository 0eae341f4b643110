"""Prefect artifacts for each run: the stance table against the seed profile, new articles, alerts, the report link."""
from __future__ import annotations

import logging
import re

from extractors.urls import safe_link
from store import repository as repo

log = logging.getLogger(__name__)


def stance_markdown(store: repo.Store, reference: dict) -> str:
    rows = ["| actor | reference (seeds) | recent score | articles | strongest evidence |", "|---|---|---|---|---|"]
    for r in repo.stance_table(store):
        ref = reference.get(r["actor"], {})
        ref_s = f"{ref.get('stance', '-')} ({ref.get('score', 0):+.2f})" if ref else "-"
        if r["n"]:
            ev = _cell(r["evidence"])[:160]
            rows.append(f"| {r['actor']} | {ref_s} | {r['score']:+.2f} | {r['n']} | {ev} |")
        else:
            rows.append(f"| {r['actor']} | {ref_s} | - | 0 | |")
    return "\n".join(rows)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def _md_link(url: str) -> str:
    """A link target for markdown: http(s) only (anything else becomes #), with the characters that would end
    the target or open markup percent-encoded."""
    url = safe_link(str(url))
    for ch, enc in ((" ", "%20"), ("(", "%28"), (")", "%29"), ("<", "%3C"), (">", "%3E"), ("[", "%5B"), ("]", "%5D"),
                    ('"', "%22"), ("\\", "%5C"), ("`", "%60")):
        url = url.replace(ch, enc)
    return url


def _md_text(text: str) -> str:
    """Untrusted text inside a markdown link or list: markdown's punctuation backslash-escaped, HTML made text."""
    return _cell(re.sub(r"([\\`*_{}\[\]()#+!~])", r"\\\1", str(text)))


def monitor_markdown(store: repo.Store, reference: dict, new_articles, new_total: int, new_alerts: list[str]) -> str:
    md = ["# kstance: stance per actor", "", stance_markdown(store, reference), "",
          f"## New articles ({new_total})", ""]
    link = lambda a: a.served_url or a.original_url or a.url  # noqa: E731 (the address that opens, not the dedup key)
    md += [f"- [{_md_text(a.title or link(a))}]({_md_link(link(a))}) ({a.published or 'no date'}, {a.status})"
           for a in new_articles[:100]]
    md += ["", f"## New alerts ({len(new_alerts)})", ""]
    for a, d in repo.alerts(store):
        if a.id in set(new_alerts):
            deliveries = ", ".join(f"{x.channel} {x.state}" for x in d) or "none"
            md.append(f"- {a.actor}: {a.from_stance} -> {a.to_stance} on {a.detected_at} "
                      f"(confidence {a.confidence:.2f}; deliveries: {deliveries})")
    return "\n".join(md)


def publish_monitor(store: repo.Store, reference: dict, new_articles, new_total: int, new_alerts: list[str],
                    report) -> None:
    try:
        from prefect.artifacts import create_link_artifact, create_markdown_artifact

        md = monitor_markdown(store, reference, new_articles, new_total, new_alerts)
        create_markdown_artifact(md, key="kstance-monitor", description="Seoul's stance per actor")
        create_link_artifact(report.resolve().as_uri(), link_text="kstance report", key="kstance-report")
    except Exception as exc:  # artifacts are a view; never fail a run over them
        log.warning("could not publish artifacts: %s", exc)


def publish_backfill(summary: dict) -> None:
    try:
        from prefect.artifacts import create_markdown_artifact

        lines = ["# kstance backfill", "", "| figure | value |", "|---|---|"]
        for k, v in summary.items():
            lines.append(f"| {k} | {_cell(v)} |")
        create_markdown_artifact("\n".join(lines), key="kstance-backfill", description="backfill summary")
    except Exception as exc:
        log.warning("could not publish artifacts: %s", exc)


class BackfillProgress:
    """A Prefect progress artifact for a backfill (percent of the estimated records); silent outside a flow run."""

    def __init__(self, total: int | None):
        self.total = total
        self.id = None
        try:
            from prefect.artifacts import create_progress_artifact

            if total:
                self.id = create_progress_artifact(progress=0.0, key="kstance-backfill-progress",
                                                   description=f"backfill of {total} records")
        except Exception as exc:
            log.warning("could not create the progress artifact: %s", exc)

    def update(self, read: int, problems: int) -> None:
        if not self.id or not self.total:
            return
        try:
            from prefect.artifacts import update_progress_artifact

            update_progress_artifact(self.id, progress=min(100.0, 100.0 * (read + problems) / self.total))
        except Exception as exc:
            log.warning("could not update the progress artifact: %s", exc)
            self.id = None

    def finish(self) -> None:
        if self.id:
            try:
                from prefect.artifacts import update_progress_artifact

                update_progress_artifact(self.id, progress=100.0)
            except Exception:
                pass
