"""The pipeline's batch steps, free of Prefect so they can be called from flows, tests and benchmarks:
dedup -> language -> relevance -> judge -> store, and detect -> record alerts -> deliver."""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Callable

from sqlalchemy.orm import Session

from alerts.deliver import Channel
from alerts.outbox import DeliveryReport, deliver_due
from classifiers.actors import ACTORS
from classifiers.relevance import relevance
from classifiers.confusion import load_profile
from classifiers.shifts import DetectorConfig, Shift, detect
from extractors.article import DUPLICATE, IRRELEVANT, OK, UNSUPPORTED_LANGUAGE, Article
from extractors.dedup import Deduplicator, story_simhash
from flows.settings import Settings
from store import repository as repo

if TYPE_CHECKING:  # the classifier (torch, the encoder) is imported only when there is something to judge
    from classifiers.stance import StanceModel

_models: dict[tuple, StanceModel] = {}
_model_lock = threading.Lock()


def get_model(settings: Settings) -> "StanceModel":
    """The classifier, loaded once per process for a given artifact, encoder and backend."""
    key = (str(settings.model_artifact), settings.model, settings.backend)
    with _model_lock:
        if key not in _models:
            if settings.backend == "onnx":
                from classifiers.onnx_backend import load_onnx_model

                _models[key] = load_onnx_model(settings.model_artifact, settings.model, settings.home / "onnx")
            else:
                from classifiers.stance import StanceModel

                _models[key] = StanceModel.load(settings.model_artifact, settings.model)
        return _models[key]


def artifact_meta(settings: Settings) -> dict:
    """The calibrated artifact's metadata (languages, reference profile, version) without loading the model:
    a cycle with nothing to judge never pays for torch and the encoder."""
    path = settings.model_artifact / "model.json"
    if not path.exists():
        raise FileNotFoundError(f"no calibrated model in {settings.model_artifact} (run `kstance calibrate`)")
    return json.loads(path.read_text())


def model_version(model: "StanceModel | dict") -> str:
    meta = model if isinstance(model, dict) else model.meta
    return f"v{meta.get('version', 0)}-{meta.get('train', {}).get('corpus_fingerprint', 'unknown')[:8]}"


def model_languages(meta: dict) -> tuple[str, ...]:
    return tuple(meta.get("languages", ["en"]))


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
    as_is: list[tuple[Article, int | None, str | None]] = field(default_factory=list)  # (article, simhash, duplicate of)
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
        if a.status != OK:
            summary.skip(a.reason or a.status)
            out.as_is.append((a, sim, None))
            dedup.seen_urls.add(a.url)
            continue
        dup = dedup.duplicate_of(a, sim)
        if dup:
            summary.duplicates += 1
            out.as_is.append((a.with_status(DUPLICATE, f"same story as {dup}"), sim, dup))
            dedup.seen_urls.add(a.url)
            continue
        dedup.add(a.url, a.content_hash, sim or 0)
        if a.language and a.language not in languages:
            reason = f"language {a.language!r} not covered by the model"
            summary.skip(reason)
            out.as_is.append((a.with_status(UNSUPPORTED_LANGUAGE, reason), sim, None))
            continue
        keep, why = relevance(a.title, a.text)
        if not keep:
            summary.skip(why)
            out.as_is.append((a.with_status(IRRELEVANT, why), sim, None))
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
            stored = a if v.judgments or not v.reason else a.with_status(OK, v.reason)
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


def detector_config(settings: Settings) -> DetectorConfig:
    return DetectorConfig(
        method=settings.shift_method, false_alarms_per_year=settings.shift_false_alarms_per_year,
        regime_purity=settings.shift_regime_purity, rate_window=settings.shift_rate_window,
        min_articles=settings.shift_min_articles, cooldown_days=settings.shift_cooldown_days,
        k=settings.cusum_k, h=settings.cusum_h, sigma=settings.score_sigma)


def detect_shifts(store: repo.Store, settings: Settings, reference: dict[str, dict]) -> list[Shift]:
    """Every actor's shifts over its whole stored series: a pure function of the stored judgments, so a backfill
    and the daily runs that stored the same articles find the same shifts (alerts are keyed, never repeated)."""
    cfg = detector_config(settings)
    profile = load_profile(settings.model_artifact)  # the classifier's measured confusion (or a default)
    shifts: list[Shift] = []
    for actor in ACTORS:
        ref = reference.get(actor, {}).get("score", 0.0)
        shifts += detect(actor, repo.series(store, actor), ref, cfg, profile)
    return shifts


def record_and_deliver(store: repo.Store, settings: Settings, channels: list[Channel], shifts: list[Shift], *,
                       backfill: bool, deliver_historical: bool = False, today: date | None = None,
                       deliver: bool = True) -> tuple[list[str], DeliveryReport]:
    """Record new shifts in the outbox, then send what is due. A shift is historical when it comes from a
    backfill (unless deliver_historical) or was confirmed by articles older than historical_after_days."""
    today = today or date.today()
    cutoff = today - timedelta(days=settings.historical_after_days)
    keys = [c.key for c in channels]
    muted = repo.muted_actors(store, today)  # `kstance mute`: recorded and marked, not sent
    daily = settings.digest == "daily" and not backfill
    new: list[str] = []
    for sh in shifts:
        historical = backfill or sh.detected_at < cutoff
        send_it = deliver_historical if backfill else not historical
        new += repo.record_shifts(store, [sh], historical=historical, deliver=send_it, channels=keys, muted=muted,
                                  pending_state="digest" if daily else "pending")
    if daily:  # KSTANCE_DIGEST=daily: one message a day, with the day's judgments and shifts
        from alerts.digest import send_digest

        report = DeliveryReport()
        if deliver:
            for key, error in send_digest(store, channels, today, settings.report_url).items():
                if error is None:
                    report.sent.append((f"digest {today}", key))
                else:
                    report.failed.append((f"digest {today}", key, error))
        return new, report
    report = deliver_due(store, channels, settings.historical_after_days, guarantee=settings.delivery_guarantee,
                         max_attempts=settings.delivery_max_attempts,
                         max_age=timedelta(hours=settings.delivery_max_age_h),
                         report_url=settings.report_url) if deliver else DeliveryReport()
    return new, report
