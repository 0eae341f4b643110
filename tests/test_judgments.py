"""`kstance judgments`: the stored judgments as an analyst queries them, in text, JSONL and CSV."""
import csv
import io
import json
from datetime import date

from classifiers.stance import Judgment
from extractors.article import Article
from store import repository as repo
from tests.conftest import run_kstance
from tests.test_cli import one_line_error, run

ROWS = [  # (day, slug, outlet, title, actor, stance, score, evidence)
    (
        "2026-02-20",
        "a",
        "Herald",
        "Seoul and Tokyo agree on shuttle diplomacy",
        "JP",
        "cooperative",
        0.7,
        ("Seoul welcomed the agreement with Tokyo.",),
    ),
    (
        "2026-03-02",
        "b",
        "Wire",
        '=HYPERLINK("http://evil.example","click")',
        "JP",
        "confrontational",
        -0.6,
        ('The foreign ministry protested Tokyo\'s claim, calling it "unacceptable".', "Seoul summoned the envoy."),
    ),
    (
        "2026-03-10",
        "c",
        "연합뉴스",
        "정부, 일본 교과서 왜곡에 항의",
        "JP",
        "confrontational",
        -0.8,
        ("정부는 강하게 항의했다.",),
    ),
    ("2026-03-10", "c", "연합뉴스", "정부, 일본 교과서 왜곡에 항의", "CN", "neutral", 0.0, ("China was mentioned.",)),
    ("2026-04-01", "d", "Times", "Seoul and Washington extend drills", "US", "cooperative", 0.8, ("Allies.",)),
]


def fill(home) -> str:
    db = f"sqlite:///{home / 'kstance.db'}"
    home.mkdir(parents=True, exist_ok=True)
    store = repo.open_store(db)
    by_article: dict[str, list] = {}
    with store.session() as s:
        for day, slug, outlet, title, actor, stance, score, ev in ROWS:
            served = f"http://www.example.com/{slug}"
            key = f"https://example.com/{slug}"
            if slug not in by_article:
                repo.save_article(s, Article(key, title, "text", date.fromisoformat(day), outlet, "en",
                                             original_url=served, served_url=served), origin="t")
            by_article.setdefault(slug, []).append(Judgment(actor, stance, score, 0.85, ev, 1))
        for slug, js in by_article.items():
            repo.save_judgments(s, f"https://example.com/{slug}", js, "t")
    store.close()
    return db


def test_jsonl_filters_by_actor_and_dates_and_gives_every_field(tmp_path):
    fill(tmp_path / ".kstance")
    proc = run(["judgments", "--actor", "jp", "--since", "2026-03-01", "--format", "jsonl"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(ln) for ln in proc.stdout.splitlines()]
    assert [(r["date"], r["actor"], r["stance"]) for r in rows] == [("2026-03-02", "JP", "confrontational"),
                                                                     ("2026-03-10", "JP", "confrontational")]
    r = rows[0]
    assert list(r)[:9] == ["date", "outlet", "title", "url", "actor", "stance", "score", "confidence", "evidence"]
    assert r["url"] == "http://www.example.com/b" and r["key"] == "https://example.com/b" and r["outlet"] == "Wire"
    assert r["score"] == -0.6 and r["confidence"] == 0.85 and len(r["evidence"]) == 2
    until = run(["judgments", "--until", "2026-03-10", "--stance", "confrontational", "--format", "jsonl"], tmp_path)
    assert [json.loads(ln)["date"] for ln in until.stdout.splitlines()] == ["2026-03-02", "2026-03-10"]


def test_csv_opens_as_a_spreadsheet_table(tmp_path):
    fill(tmp_path / ".kstance")
    proc = subprocess_bytes(["judgments", "--actor", "JP", "--format", "csv"], tmp_path)
    assert proc.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel then reads the Hangul right
    text = proc.decode("utf-8-sig")
    assert "\r\n" in text  # spreadsheet line ends
    table = list(csv.reader(io.StringIO(text, newline="")))
    assert table[0] == ["date", "outlet", "title", "url", "actor", "stance", "score", "confidence", "evidence"]
    assert len(table) == 4 and all(len(r) == 9 for r in table)
    b = table[2]
    assert b[0] == "2026-03-02" and b[3] == "http://www.example.com/b" and b[6] == "-0.60"
    assert b[2].startswith("'=HYPERLINK")  # a headline is never run as a formula
    assert (
        b[8] == 'The foreign ministry protested Tokyo\'s claim, calling it "unacceptable".\nSeoul summoned the envoy.'
    )
    assert table[3][1] == "연합뉴스" and table[3][2] == "정부, 일본 교과서 왜곡에 항의"


def subprocess_bytes(args, cwd) -> bytes:
    proc = run_kstance(args, cwd, timeout=300, text=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_text_lists_each_judgment_with_its_link_and_evidence(tmp_path):
    fill(tmp_path / ".kstance")
    proc = run(["judgments", "--actor", "US"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "2026-04-01  US  cooperative" in proc.stdout and "http://www.example.com/d" in proc.stdout
    assert "\u201cAllies.\u201d" in proc.stdout and proc.stdout.rstrip().endswith("1 judgment")


def test_bad_filters_are_one_line_errors(tmp_path):
    assert "--actor must be one of" in one_line_error(run(["judgments", "--actor", "XX"], tmp_path))
    assert "--since must be a date" in one_line_error(run(["judgments", "--since", "March"], tmp_path))
    assert "--stance must be" in one_line_error(run(["judgments", "--stance", "angry"], tmp_path))
    assert "--format must be text, jsonl or csv" in one_line_error(run(["judgments", "--format", "xlsx"], tmp_path))
