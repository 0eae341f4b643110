"""The batch steps the flows call, on a real SQLite store and the shipped model."""
from datetime import date

import pytest
from sqlalchemy import func, select

from extractors.article import UNEXTRACTABLE, Article
from pipeline.batch import load_deduplicator, process_articles
from store import repository as repo
from store.models import ArticleRow, JudgmentRow

JP = ("SEOUL, July 14 -- South Korea lodged a strong protest with Japan on Tuesday after Tokyo repeated its claim to "
      "the Dokdo islets in its defense white paper. The foreign ministry summoned a senior Japanese diplomat and "
      "demanded that Tokyo withdraw the claim immediately. The defense ministry said it would sternly respond to "
      "any further provocation against South Korea's sovereignty over the islets.")


def articles():
    return [
        Article("https://n.example/jp", "Seoul protests Tokyo's claim", JP, date(2026, 7, 14), "Wire", "en"),
        Article(
            "https://copy.example/jp", "South Korea protests", JP + " Reporting by K.", date(2026, 7, 14), "Other", "en"
        ),
        Article(
            "https://n.example/kospi",
            "Seoul shares rise",
            "Seoul shares closed higher on chip earnings. The benchmark index rose 1.2 percent as foreign "
            "investors bought tech stocks for a third straight session, while the won firmed.",
            date(2026, 7, 15),
            "Wire",
            "en",
        ),
        Article(
            "https://n.example/ko",
            "정부, 일본 독도 주장에 항의",
            "정부는 일본 정부의 독도 영유권 주장에 강력히 항의했다. " * 5,
            date(2026, 7, 14),
            "연합",
            "ko",
        ),
        Article(
            "https://n.example/empty",
            "x",
            "",
            None,
            "Wire",
            None,
            status=UNEXTRACTABLE,
            reason="no article text found (0 characters)",
        ),
    ]




def test_batch_is_screened_judged_and_stored_with_reasons(store, model):
    summary = process_articles(store, model, articles(), origin="test", dedup=load_deduplicator(store))
    assert summary.read == 5 and summary.judged == 2 and summary.duplicates == 1
    with store.session() as s:
        rows = {a.url: a for a in s.scalars(select(ArticleRow))}
        judgments = list(s.scalars(select(JudgmentRow)))
    assert rows["https://copy.example/jp"].status == "duplicate" and rows["https://copy.example/jp"].duplicate_of == "https://n.example/jp"
    assert rows["https://n.example/kospi"].status == "irrelevant" and "followed actors" in rows["https://n.example/kospi"].reason
    assert rows["https://n.example/ko"].status not in ("unsupported_language", "irrelevant")  # Korean is judged now
    assert rows["https://n.example/empty"].status == "unextractable"
    assert sorted((j.article_url, j.actor, j.stance) for j in judgments) == [
        ("https://n.example/jp", "JP", "confrontational"), ("https://n.example/ko", "JP", "confrontational")]


def test_rerun_changes_nothing(store, model):
    process_articles(store, model, articles(), origin="test", dedup=load_deduplicator(store))
    with store.session() as s:
        before = (
            s.scalar(select(func.count()).select_from(ArticleRow)),
            s.scalar(select(func.count()).select_from(JudgmentRow)),
        )
    again = process_articles(store, model, articles(), origin="test", dedup=load_deduplicator(store))
    with store.session() as s:
        after = (
            s.scalar(select(func.count()).select_from(ArticleRow)),
            s.scalar(select(func.count()).select_from(JudgmentRow)),
        )
    assert again.duplicates == 5 and again.judged == 0 and before == after


def test_unreachable_database_is_one_clear_error():
    with pytest.raises(repo.StoreError, match="cannot open the store at postgresql\\+psycopg://u:\\*\\*\\*@127.0.0.1:9/x"):
        repo.open_store("postgresql+psycopg://u:secretpw@127.0.0.1:9/x")
