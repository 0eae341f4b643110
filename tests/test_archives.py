import gzip
import io
import json

import pytest

from extractors.archives import ArchiveProblem, UnsupportedArchive, read_archive
from extractors.article import Article
from tests.conftest import fixture_page

TEXT = ("President Lee Jae-myung said Seoul would hold talks with Tokyo next month to restore shuttle diplomacy. "
        "The foreign ministry welcomed Japan's offer. ") * 3


def _articles(items):
    items = list(items)
    return [i for i in items if isinstance(i, Article)], [i for i in items if isinstance(i, ArchiveProblem)]


def test_jsonl_with_a_broken_line_reports_its_line_number(tmp_path):
    p = tmp_path / "a.jsonl"
    p.write_text("\n".join([
        json.dumps({"url": "https://example.com/1", "title": "One", "published": "2024-01-02", "text": TEXT}),
        '{"url": "https://example.com/2", "title": ',
        json.dumps({"url": "https://example.com/3", "title": "No body"}),
        json.dumps({"url": "https://example.com/4", "published": "2024-01-03", "text": TEXT, "source": "Yonhap"}),
    ]))
    arts, problems = _articles(read_archive(p))
    assert [a.url for a in arts] == ["https://example.com/1", "https://example.com/4"]
    assert arts[1].source == "Yonhap"
    assert [(x.where, x.reason.split(":")[0]) for x in problems] == [("a.jsonl:2", "broken JSON line"),
                                                                      ("a.jsonl:3", "record has neither text nor html")]


def test_jsonl_gz_with_html_records(tmp_path):
    html, meta = fixture_page("017")
    p = tmp_path / "a.jsonl.gz"
    with gzip.open(p, "wt", encoding="utf-8") as fh:
        fh.write(json.dumps({"url": meta["url"], "html": html.decode("utf-8", "replace")}) + "\n")
    arts, problems = _articles(read_archive(p))
    assert not problems and arts[0].title == meta["title"] and arts[0].ok


def test_truncated_gzip_is_a_problem_not_a_crash(tmp_path):
    p = tmp_path / "cut.jsonl.gz"
    data = gzip.compress((json.dumps({"url": "https://e.com/1", "text": TEXT}) + "\n").encode() * 200)
    p.write_bytes(data[: len(data) // 2])
    arts, problems = _articles(read_archive(p))
    assert problems and "cut short" in problems[-1].reason


def test_warc_written_by_warcio_reads_back(tmp_path):
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    html, meta = fixture_page("013")
    p = tmp_path / "crawl.warc.gz"
    with open(p, "wb") as fh:
        w = WARCWriter(fh, gzip=True)
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        w.write_record(w.create_warc_record(meta["url"], "response", payload=io.BytesIO(html), http_headers=headers))
        css = StatusAndHeaders("200 OK", [("Content-Type", "text/css")], protocol="HTTP/1.1")
        w.write_record(
            w.create_warc_record("https://example.com/s.css", "response", payload=io.BytesIO(b"a{}"), http_headers=css)
        )
    arts, problems = _articles(read_archive(p))
    assert len(arts) == 1 and arts[0].title == meta["title"] and not problems


def test_truncated_warc_is_reported(tmp_path):
    p = tmp_path / "bad.warc"
    p.write_bytes(b"WARC/1.0\r\nWARC-Type: response\r\nContent-Length: 99999\r\n\r\n<html>")
    items = list(read_archive(p))
    assert all(isinstance(i, ArchiveProblem) for i in items)


def test_folder_with_an_unreadable_file(tmp_path):
    html, meta = fixture_page("017")
    (tmp_path / "017.html").write_bytes(html)
    (tmp_path / "017.meta.json").write_text(json.dumps(meta))
    (tmp_path / "story.json").write_text(
        json.dumps({"url": "https://e.com/s", "text": TEXT, "published": "2024-02-01"})
    )
    (tmp_path / "broken.json").write_text("{not json")
    arts, problems = _articles(read_archive(tmp_path))
    assert sorted(a.url for a in arts) == ["https://e.com/s", "https://en.yna.co.kr/view/AEN20230419000952325"]
    assert [p.where for p in problems] == ["broken.json"]


def test_unsupported_or_missing_source_is_named(tmp_path):
    (tmp_path / "x.csv").write_text("a,b")
    with pytest.raises(UnsupportedArchive, match="x.csv: not a supported archive"):
        read_archive(tmp_path / "x.csv")
    with pytest.raises(UnsupportedArchive, match="no such file"):
        read_archive(tmp_path / "missing.jsonl")


# -- per-record validation (issue 17) ---------------------------------------------------------------------------

def test_a_jsonl_file_starting_with_a_bom_keeps_its_first_record(tmp_path):
    p = tmp_path / "bom.jsonl"
    lines = [json.dumps({"url": f"https://example.com/{i}", "published": "2024-01-02", "text": TEXT}) for i in (1, 2)]
    p.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode())
    arts, problems = _articles(read_archive(p))
    assert [a.url for a in arts] == ["https://example.com/1", "https://example.com/2"] and not problems
    gz = tmp_path / "bom.jsonl.gz"
    gz.write_bytes(gzip.compress(b"\xef\xbb\xbf" + "\n".join(lines).encode()))
    assert len(_articles(read_archive(gz))[0]) == 2


def test_nul_characters_are_removed_and_wrong_types_are_a_problem_for_that_record_only(tmp_path):
    p = tmp_path / "nasty.jsonl"
    p.write_text("\n".join([
        json.dumps({"url": "https://example.com/nul", "title": "Bad\u0000title", "published": "2024-01-02",
                    "text": TEXT.replace("Tokyo", "To\u0000kyo"), "source": "Yon\u0000hap"}),
        json.dumps({"url": ["https://example.com/list"], "text": TEXT}),
        json.dumps({"url": "https://example.com/obj-title", "title": {"a": 1}, "text": TEXT}),
        json.dumps({"url": "https://example.com/num-source", "source": 42, "published": "2024-01-03", "text": TEXT}),
        json.dumps({"url": "https://example.com/html-list", "html": ["<p>x</p>"]}),
        json.dumps({"url": "https://example.com/last", "published": "2024-01-04", "text": TEXT}),
    ]))
    arts, problems = _articles(read_archive(p))
    assert [a.url for a in arts] == ["https://example.com/nul", "https://example.com/num-source",
                                     "https://example.com/last"]
    nul = arts[0]
    assert "\x00" not in nul.title + nul.text + nul.source and "Tokyo" in nul.text and nul.source == "Yonhap"
    assert arts[1].source == "42"
    assert [(x.where, x.reason) for x in problems] == [
        ("nasty.jsonl:2", "field 'url' is list, not text"),
        ("nasty.jsonl:3", "field 'title' is dict, not text"),
        ("nasty.jsonl:5", "field 'html' is list, not text"),
    ]


def test_a_folder_with_bad_sidecar_types_and_a_bom_goes_on(tmp_path):
    html, meta = fixture_page("017")
    (tmp_path / "017.html").write_bytes(html)
    (tmp_path / "017.meta.json").write_text(json.dumps({**meta, "url": 12345}))
    (tmp_path / "018.html").write_bytes(html)
    (tmp_path / "018.meta.json").write_text(json.dumps({**meta, "url": "https://e.com/ok", "title": ["x"]}))
    (tmp_path / "bom.json").write_bytes(
        b"\xef\xbb\xbf" + json.dumps({"url": "https://e.com/bom", "text": TEXT}).encode()
    )
    (tmp_path / "nul.txt").write_text(TEXT.replace("Seoul", "Se\u0000oul"))
    arts, problems = _articles(read_archive(tmp_path))
    assert sorted(a.url for a in arts if a.url.startswith("https")) == ["https://e.com/bom"]
    assert any("\x00" not in a.text and "Seoul" in a.text for a in arts if a.url.startswith("file:"))
    assert sorted((x.where, x.reason) for x in problems) == [
        ("017.html", "017.meta.json: field 'url' is int, not text"),
        ("018.html", "018.meta.json: field 'title' is list, not text"),
    ]
