"""Reads for the tables, the shift detector and the analysts: judgment series, the stance table, counts."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from classifiers.actors import ACTORS
from classifiers.shifts import Observation
from extractors.article import shift_days
from store.engine import Store
from store.models import AlertRow, ArticleRow, JudgmentRow


def series(store: Store, actor: str) -> list[Observation]:
    """Every judged article toward this actor, in publication order (undated articles excluded)."""
    with store.session() as s:
        rows = s.execute(
            select(JudgmentRow, ArticleRow.published, ArticleRow.title, ArticleRow.source)
            .join(ArticleRow, ArticleRow.url == JudgmentRow.article_url)
            .where(JudgmentRow.actor == actor, ArticleRow.published.is_not(None))
            .order_by(ArticleRow.published, ArticleRow.url)
        ).all()
    return [Observation(j.article_url, pub, j.score, j.confidence, j.stance, title or "", source or "",
                        tuple(j.evidence or ())) for j, pub, title, source in rows]


def stance_table(store: Store, recent_days: int = 30) -> list[dict]:
    """Per actor: the latest judged article's date, the mean score over the last `recent_days` days of
    articles (article time), the count, and the strongest recent evidence."""
    out = []
    with store.session() as s:
        for actor in ACTORS:
            last = s.scalar(select(func.max(ArticleRow.published)).join(
                JudgmentRow, JudgmentRow.article_url == ArticleRow.url).where(JudgmentRow.actor == actor))
            if last is None:
                out.append({"actor": actor, "n": 0})
                continue
            since = shift_days(last, -recent_days)
            rows = s.execute(
                select(JudgmentRow, ArticleRow.title).join(ArticleRow, ArticleRow.url == JudgmentRow.article_url)
                .where(JudgmentRow.actor == actor, ArticleRow.published >= since)
            ).all()
            scores = [j.score for j, _ in rows]
            best = max(rows, key=lambda r: r[0].confidence)
            out.append({"actor": actor, "n": len(rows), "score": sum(scores) / len(scores), "last": last,
                        "evidence": (best[0].evidence or [""])[0], "title": best[1]})
    return out


def counts(store: Store) -> dict[str, int]:
    with store.session() as s:
        by_status = dict(s.execute(select(ArticleRow.status, func.count()).group_by(ArticleRow.status)).tuples().all())
        by_status["judgments"] = s.scalar(select(func.count()).select_from(JudgmentRow)) or 0
        by_status["alerts"] = s.scalar(select(func.count()).select_from(AlertRow)) or 0
    return by_status


def articles_per_origin(store: Store) -> dict[str, int]:
    """How many articles are stored per origin (a feed's URL, an archive's name)."""
    with store.session() as s:
        return dict(s.execute(select(ArticleRow.origin, func.count()).group_by(ArticleRow.origin)).tuples().all())


def judgments(store: Store, *, actor: str | None = None, since: date | None = None, until: date | None = None,
              stance: str | None = None) -> list[dict]:
    """Stored judgments with their article, oldest first (undated articles last); filters are inclusive."""
    q = (select(JudgmentRow, ArticleRow.published, ArticleRow.source, ArticleRow.title, ArticleRow.served_url,
                ArticleRow.original_url)
         .join(ArticleRow, ArticleRow.url == JudgmentRow.article_url))
    if actor:
        q = q.where(JudgmentRow.actor == actor)
    if stance:
        q = q.where(JudgmentRow.stance == stance)
    if since:
        q = q.where(ArticleRow.published >= since)
    if until:
        q = q.where(ArticleRow.published <= until)
    q = q.order_by(ArticleRow.published.is_(None), ArticleRow.published, JudgmentRow.actor, ArticleRow.url)
    with store.session() as s:
        rows = s.execute(q).all()
    return [{"url": j.article_url, "link": served or original or j.article_url, "published": pub,
             "outlet": source or "", "title": title or "", "actor": j.actor, "stance": j.stance, "score": j.score,
             "confidence": j.confidence, "evidence": tuple(j.evidence or ())}
            for j, pub, source, title, served, original in rows]
