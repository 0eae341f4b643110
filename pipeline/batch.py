"""A batch of articles through the pipeline: dedup -> language -> relevance (screening), the classifier, then the
store, in one transaction per batch."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from sqlalchemy.orm import Session

from classifiers.relevance import relevance
from extractors.article import Article
from extractors.dedup import Deduplicator, story_simhash
from pipeline.model import model_version
from store import repository as repo
from vocab.states import ArticleStatus

if TYPE_CHECKING:
    from classifiers.stance import StanceModel


@dataclass
class BatchSummary:
    read: int = 0
    duplicates: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> count
    judged: int = 0
    judgments: int = 0

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def merge(self, other: "BatchSummary") -> None:
        self.read += other.read
        self.duplicates += other.duplicates
        self.judged += other.judged
        self.judgments += other.judgments
        for k, v in other.skipped.items():
            self.skipped[k] = self.skipped.get(k, 0) + v

    def as_dict(self) -> dict:
        return {"read": self.read, "duplicates": self.duplicates, "skipped": dict(sorted(self.skipped.items())),
                "judged": self.judged, "judgments": self.judgments}


def load_deduplicator(store: repo.Store) -> Deduplicator:
    d = Deduplicator()
    for url, chash, sim in repo.dedup_index(store):
        d.add(url, chash, int(sim, 16) if sim else 0)
    return d


@dataclass
class Screened:
    """A batch after screening, before judging: what is stored as it is, and what goes to the classifier."""
    summary: BatchSummary
    # (article, simhash, duplicate of)
    as_is: list[tuple[Article, int | None, str | None]] = field(default_factory=list)
    to_judge: list[tuple[Article, int | None]] = field(default_factory=list)

    @property
    def texts(self) -> list[str]:
        return [a.text for a, _ in self.to_judge]

    @property
    def languages(self) -> list[str | None]:
        return [a.language for a, _ in self.to_judge]


def screen_articles(store: repo.Store, languages: tuple[str, ...], articles: list[Article],
                    dedup: Deduplicator) -> Screened:
    """Dedup, language and relevance, in input order (so the same input always folds the same way).
    Articles already stored count as duplicates and are left as they are: reruns change nothing."""
    out = Screened(BatchSummary(read=len(articles)))
    summary = out.summary
    known = repo.existing_urls(store, [a.url for a in articles], retry="replace")
    for a in articles:
        if a.url in known or a.url in dedup.seen_urls:
            summary.duplicates += 1
            continue
        sim = story_simhash(a) if a.text else None
        if a.status != ArticleStatus.OK:
            summary.skip(a.reason or a.status)
            out.as_is.append((a, sim, None))
            dedup.seen_urls.add(a.url)
            continue
        dup = dedup.duplicate_of(a, sim)
        if dup:
            summary.duplicates += 1
            out.as_is.append((a.with_status(ArticleStatus.DUPLICATE, f"same story as {dup}"), sim, dup))
            dedup.seen_urls.add(a.url)
            continue
        dedup.add(a.url, a.content_hash, sim or 0)
        if a.language and a.language not in languages:
            reason = f"language {a.language!r} not covered by the model"
            summary.skip(reason)
            out.as_is.append((a.with_status(ArticleStatus.UNSUPPORTED_LANGUAGE, reason), sim, None))
            continue
        keep, why = relevance(a.title, a.text)
        if not keep:
            summary.skip(why)
            out.as_is.append((a.with_status(ArticleStatus.IRRELEVANT, why), sim, None))
            continue
        out.to_judge.append((a, sim))
    return out


def persist(store: repo.Store, screened: Screened, verdicts: list, *, origin: str, version: str,
            also: Callable[[Session], object] | None = None,
            retry: repo.PageRetryPolicy = repo.PageRetryPolicy()) -> BatchSummary:
    """Store a screened batch and its verdicts in one transaction; `also` writes in the same transaction
    (a feed's validators, which must never be committed without the articles they cover)."""
    summary = screened.summary
    with store.session() as s:
        for a, sim, dup in screened.as_is:
            repo.save_article(s, a, origin=origin, simhash=sim, duplicate_of=dup, retry=retry)
        for (a, sim), v in zip(screened.to_judge, verdicts):
            stored = a if v.judgments or not v.reason else a.with_status(ArticleStatus.OK, v.reason)
            repo.save_article(s, stored, origin=origin, simhash=sim, retry=retry)
            repo.save_judgments(s, a.url, v.judgments, version)
            summary.judged += 1
            summary.judgments += len(v.judgments)
        if also is not None:
            also(s)
    return summary


def process_articles(store: repo.Store, model: "StanceModel", articles: list[Article], *, origin: str,
                     dedup: Deduplicator, also: Callable[[Session], object] | None = None,
                     retry: repo.PageRetryPolicy = repo.PageRetryPolicy()) -> BatchSummary:
    """Screen, judge and store one batch, in this process."""
    screened = screen_articles(store, model.languages, articles, dedup)
    verdicts = model.judge_texts(screened.texts, screened.languages) if screened.to_judge else []
    return persist(store, screened, verdicts, origin=origin, version=model_version(model), also=also, retry=retry)
