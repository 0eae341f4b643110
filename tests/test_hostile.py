"""Hostile input and secrets: each test reproduces one attack against real loopback servers, real files and
real subprocesses (issue 18). One bad item never takes down a feed; untrusted text never controls a terminal,
a channel or memory; secrets never reach a message."""
from __future__ import annotations

import gzip
import io
import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import zlib
from datetime import date
from pathlib import Path

import pytest

from extractors.archives import ArchiveProblem, read_archive
from extractors.article import Article
from extractors.collect import RobotsRules, collect_feed
from extractors.http import FetchError, get, new_client
from extractors.urls import RefusedURL, check_fetchable
from tests.conftest import ROOT, respond, run_kstance

GOOD_TEXT = ("President Lee Jae-myung said Seoul would hold talks with Tokyo next month to restore shuttle diplomacy. "
             "The foreign ministry welcomed Japan's offer. ") * 3


def page(title: str) -> str:
    return (f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1><p>{GOOD_TEXT}</p>"
            "</article></body></html>")


def rss(links: list[tuple[str, str]]) -> str:
    items = "".join(f"<item><title>{t}</title><link>{link}</link>"
                    "<pubDate>Tue, 21 Jul 2026 09:00:00 +0000</pubDate></item>"
                    for t, link in links)
    return f"<?xml version='1.0' encoding='UTF-8'?><rss version='2.0'><channel><title>f</title>{items}</channel></rss>"


# -- 1. one bad item never fails its feed -------------------------------------------------------------

def test_a_feed_with_bad_links_among_good_ones_keeps_the_good_ones_and_stays_healthy(server):
    server.routes["/a.html"] = respond(page("Good one"))
    server.routes["/b.html"] = respond(page("Good two"))
    server.routes["/to-data"] = respond("", status=302, headers={"Location": "data:text/html,<b>x</b>"})
    server.routes["/to-js"] = respond("", status=302, headers={"Location": "javascript:alert(1)"})
    server.routes["/to-octal"] = respond("", status=302, headers={"Location": "http://0177.0.0.1/"})
    # six distinct addresses: the full-width host folds to `localhost` in the canonical key (as IDNA maps it), so
    # with the same path it would be the same article as `localhost..` and taken as already seen
    bad = ["http://0177.0.0.1/x", "http://\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54/x", "http://localhost../y",
           server.url("/to-data"), server.url("/to-js"), server.url("/to-octal")]
    links = [("Good one", server.url("/a.html"))] + [(f"bad {i}", u) for i, u in enumerate(bad)] + \
            [("Good two", server.url("/b.html"))]
    server.routes["/feed.xml"] = respond(rss(links), ctype="application/rss+xml")
    got = collect_feed(server.url("/feed.xml"), etag=None, last_modified=None, allow_private=True,
                       is_known=lambda urls: set())
    assert got.poll.error is None  # the feed is healthy: its own document was fine
    by_title = {a.title: a for a in got.articles}
    assert by_title["Good one"].ok and by_title["Good two"].ok
    for i in range(len(bad)):
        art = by_title[f"bad {i}"]
        assert art.status == "unextractable" and art.reason.startswith("page not fetched: "), (bad[i], art.reason)


# -- 3. untrusted text printed inertly ----------------------------------------------------------------

HOSTILE = ("[/] [link=https://evil.example]click me[/link] [bold red]red[/] :warning: \x1b[2J\x1b]0;pwned\x07 "
           "\x1b[31mFAKE: all feeds ok\x1b[0m \x9b31m \u202egnp.exe")


def run_cli(args, cwd, env=None, timeout=300):
    return run_kstance(args, cwd, env, timeout, text=False)


def assert_inert(proc, code: int = 0) -> str:
    out = proc.stdout.decode("utf-8", "replace") + proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == code, out
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out and "\u202e" not in out
    assert "Traceback" not in out and "MarkupError" not in out
    return out


def test_classify_and_alerts_print_markup_escape_sequences_and_binary_inertly(tmp_path):
    from classifiers.shifts import Evidence, Shift
    from store import repository as repo

    sentence = f"The foreign ministry summoned a senior Japanese diplomat to protest Tokyo's claim {HOSTILE}."
    (tmp_path / "[red]a.txt").write_text((sentence + " ") * 3, encoding="utf-8")
    (tmp_path / "bin.txt").write_bytes(bytes(range(256)) * 8)
    proc = run_cli(["classify", str(tmp_path / "[red]a.txt"), str(tmp_path / "bin.txt")], tmp_path)
    out = assert_inert(proc)
    assert "[red]a.txt" in out and "[link=https://evil.example]" in out  # printed as written, not interpreted

    home = tmp_path / ".kstance"
    home.mkdir(exist_ok=True)
    store = repo.open_store(f"sqlite:///{home / 'kstance.db'}")
    day = date(2026, 7, 21)
    ev = (Evidence(sentence, f"Title {HOSTILE}", "https://news.example/a1", day),)
    sh = Shift(
        "JP", "cooperative", "confrontational", 0.6, -0.7, 1.3, 0.9, day, day, day, ("https://news.example/a1",), ev
    )
    repo.record_shifts(store, [sh], historical=True, deliver=False, channels=[])
    repo.record_poll(store, "https://feed.example/rss", name="f", outlet="", language=None, ok=False,
                     error=f"malformed feed: {HOSTILE}", etag=None, last_modified=None, items=0, max_failures=5,
                     base_interval=__import__("datetime").timedelta(hours=1))
    store.close()
    out = assert_inert(run_cli(["alerts"], tmp_path))
    assert "[/]" in out and "[link=https://evil.example]" in out
    (tmp_path / "feeds.toml").write_text('[[feeds]]\nname = "f"\nurl = "https://feed.example/rss"\n')
    out = assert_inert(run_cli(["feeds"], tmp_path, env={"KSTANCE_FEEDS": str(tmp_path / "feeds.toml")}))
    assert "[/]" in out
    jsonl = run_cli(["alerts", "--format", "jsonl"], tmp_path)
    assert_inert(jsonl)
    assert "[/]" in json.loads(jsonl.stdout)["evidence"][0]


@pytest.mark.slow
def test_backfill_problem_lines_from_a_hostile_warc_are_inert(tmp_path):
    (tmp_path / "junk.warc").write_bytes(b"\x1b[2J\x1b]0;pwned\x07WARC/9\r\n" + os.urandom(4096))
    # an archive that is entirely unreadable ends with exit 1 and a line (issue 15); the lines stay inert
    out = assert_inert(
        run_cli(["backfill", str(tmp_path / "junk.warc")], tmp_path, env={"KSTANCE_POLITENESS_DELAY_S": "0"}), code=1
    )
    assert "problem: junk.warc@0: corrupt WARC record" in out
    assert "kstance: error: nothing could be read from " in out


# -- 4. memory and time bounded -----------------------------------------------------------------------

PEAK_LIMIT_MB = 1536  # the bar: 1.5 GB, generous for CI; measured peaks are in BENCHMARKS.md


def peak_rss_mb(code: str) -> tuple[int, str]:
    """Run `code` in a fresh interpreter (under a 4 GB address-space ceiling, so a regression fails the test
    instead of the machine) and return its peak resident memory in MB, with its output."""
    script = textwrap.dedent("""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
        sys.path.insert(0, %r)
    """ % str(ROOT)) + textwrap.dedent(code) + textwrap.dedent("""
        # VmHWM: this process's own peak (ru_maxrss would also count the parent's pages at the fork)
        try:
            with open("/proc/self/status") as fh:
                peak_kb = next(int(l.split()[1]) for l in fh if l.startswith("VmHWM:"))
        except (OSError, StopIteration):
            peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print("PEAK_MB", peak_kb // 1024)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    peak = int(proc.stdout.split("PEAK_MB")[-1].split()[0])
    return peak, proc.stdout


def gzip_stream(size: int, chunk: int = 16 << 20) -> bytes:
    """gzip of `size` zero bytes, made chunk by chunk (never holding them)."""
    c = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = bytes(chunk)
    out = [c.compress(zeros) for _ in range(size // chunk)]
    out.append(c.flush())
    return b"".join(out)


def test_gzip_in_gzip_bomb_is_capped_at_every_layer_in_bounded_memory(server):
    inner = gzip_stream(2 << 30)  # 2 GB of zeros in about 2 MB
    bomb = gzip.compress(inner, compresslevel=9)  # and that in a few KB
    assert len(bomb) < 64 << 10
    server.routes["/bomb"] = respond(bomb, ctype="application/rss+xml", headers={"Content-Encoding": "gzip, gzip"})
    peak, out = peak_rss_mb(f"""
        from extractors.http import FetchError, get
        try:
            get({server.url("/bomb")!r}, allow_private=True)
        except FetchError as exc:
            print("ERROR", exc)
        else:
            raise SystemExit("the bomb was accepted")
    """)
    print(f"gzip-in-gzip bomb: peak {peak} MB")
    assert "too large" in out
    assert peak < PEAK_LIMIT_MB


def test_more_than_two_stacked_codings_are_refused(server):
    body = gzip.compress(gzip.compress(gzip.compress(b"x" * 100)))
    server.routes["/three"] = respond(body, headers={"Content-Encoding": "gzip, gzip, gzip"})
    with pytest.raises(FetchError, match="content codings"):
        get(server.url("/three"), allow_private=True)
    ok = gzip.compress(gzip.compress(b"<rss/>"))
    server.routes["/two"] = respond(ok, headers={"Content-Encoding": "gzip, gzip"})
    assert get(server.url("/two"), allow_private=True).body == b"<rss/>"


def test_a_200_mb_archive_line_is_a_problem_read_in_bounded_memory(tmp_path):
    path = tmp_path / "big.jsonl.gz"
    good = json.dumps({"url": "https://e.com/ok", "title": "ok", "published": "2024-01-02", "text": GOOD_TEXT})
    with gzip.open(path, "wb", compresslevel=1) as fh:
        fh.write(good.encode() + b"\n")
        fh.write(b'{"url": "https://e.com/big", "text": "')
        block = b"a" * (8 << 20)
        for _ in range(25):  # 200 MB in one line
            fh.write(block)
        fh.write(b'"}\n' + good.replace("/ok", "/ok2").encode() + b"\n")
    peak, out = peak_rss_mb(f"""
        from extractors.archives import ArchiveProblem, read_archive
        for item in read_archive({str(path)!r}):
            print("PROBLEM" if isinstance(item, ArchiveProblem) else "ARTICLE",
                  getattr(item, "reason", None) or item.url)
        with open("/proc/self/status") as fh:
            print("READ_PEAK_MB", next(int(l.split()[1]) for l in fh if l.startswith("VmHWM:")) // 1024)
        from flows.backfill import estimate_items  # imports prefect: about 270 MB before any work
        print("ESTIMATE", estimate_items([{str(path)!r}]))
    """)
    read_peak = int(out.split("READ_PEAK_MB")[1].split()[0])
    print(f"200 MB JSONL line: reading peak {read_peak} MB; with prefect imported and the line counted, {peak} MB")
    assert read_peak < PEAK_LIMIT_MB
    assert "ESTIMATE 3" in out
    assert "ARTICLE https://e.com/ok\n" in out and "ARTICLE https://e.com/ok2" in out
    assert "PROBLEM record too large" in out
    assert peak < PEAK_LIMIT_MB


@pytest.mark.parametrize("where", ["body", "headers"])
def test_a_server_dripping_one_byte_at_a_time_is_cut_at_the_total_deadline(server, where):
    def drip(req):
        try:
            if where == "headers":
                for b in b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Slow: " + b"z" * 40:
                    req.wfile.write(bytes([b]))
                    req.wfile.flush()
                    time.sleep(0.25)
                return
            req.send_response(200)
            req.send_header("Content-Type", "application/rss+xml")
            req.send_header("Content-Length", "40")
            req.end_headers()
            for _ in range(40):
                req.wfile.write(b"x")
                req.wfile.flush()
                time.sleep(0.25)  # each read is quick; the whole takes 10 s
        except (BrokenPipeError, ConnectionResetError):
            pass

    server.routes["/drip"] = drip
    t = time.monotonic()
    with pytest.raises(FetchError, match="timed out after 2 s"):
        get(server.url("/drip"), allow_private=True, timeout=2)
    assert time.monotonic() - t < 6  # cut near 2 s, not after the 10 s the drip takes


# -- 5. SSRF: resolve once, refuse on failure, connect to the checked address -------------------------

@pytest.mark.parametrize("url", ["http://100.64.0.1/", "http://100.127.255.254/x", "http://192.0.0.8/",
                                 "http://192.0.0.170/", "http://[::ffff:100.64.0.1]/", "http://[64:ff9b::7f00:1]/"])
def test_carrier_grade_nat_and_ietf_protocol_ranges_are_refused(url):
    with pytest.raises(RefusedURL, match="non-public"):
        check_fetchable(url)


def test_a_name_that_does_not_resolve_is_refused_and_never_resolved_again(server, monkeypatch):
    """DNS rebinding: the guard's lookup fails, a second lookup (by the HTTP library) answers 127.0.0.1."""
    server.routes["/secret"] = respond("internal page")
    port = int(server.base.rsplit(":", 1)[1])
    real = socket.getaddrinfo
    answers = {"n": 0}

    def rebinding(host, *args, **kwargs):
        if host == "rebind.example":
            answers["n"] += 1
            if answers["n"] == 1:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            return real("127.0.0.1", port, *args[1:], **kwargs)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with pytest.raises(FetchError, match="cannot resolve"):
        get(f"http://rebind.example:{port}/secret", timeout=3)
    assert not server.hits and answers["n"] == 1


def test_the_connection_goes_to_the_address_that_was_checked(server, monkeypatch):
    """A name whose first answer is public and every later one loopback: the fetch must not reach loopback
    (it goes to the public address, unreachable from here, and fails there)."""
    server.routes["/secret"] = respond("internal page")
    port = int(server.base.rsplit(":", 1)[1])
    real = socket.getaddrinfo
    answers = {"n": 0}

    def rebinding(host, *args, **kwargs):
        if host == "rebind.example":
            answers["n"] += 1
            ip = "93.184.215.14" if answers["n"] == 1 else "127.0.0.1"
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (ip, port))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with pytest.raises(FetchError):
        get(f"http://rebind.example:{port}/secret", timeout=2)
    assert not server.hits and answers["n"] == 1


# -- 6. folder archives stay in their folder ----------------------------------------------------------

def test_symlinks_out_of_a_folder_archive_are_not_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("SECRET " + GOOD_TEXT)
    (outside / "secret.json").write_text(json.dumps({"url": "https://e.com/s", "text": "SECRET " + GOOD_TEXT}))
    (outside / "sub").mkdir()
    (outside / "sub" / "deep.txt").write_text("SECRET " + GOOD_TEXT)
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "story.json").write_text(json.dumps({"url": "https://e.com/ok", "text": GOOD_TEXT}))
    (folder / "leak.txt").symlink_to(outside / "secret.txt")
    (folder / "leak.json").symlink_to(outside / "secret.json")
    (folder / "hostname.txt").symlink_to("/etc/hostname")
    (folder / "dir").symlink_to(outside / "sub", target_is_directory=True)
    (folder / "inside.txt").symlink_to(folder / "story.json")  # a link that stays inside is fine
    items = list(read_archive(folder))
    arts = [i for i in items if isinstance(i, Article)]
    problems = {p.where: p.reason for p in items if isinstance(p, ArchiveProblem)}
    assert not any("SECRET" in a.text for a in arts)
    assert "https://e.com/ok" in [a.url for a in arts]
    for name in ("leak.txt", "leak.json", "hostname.txt"):
        assert problems[name] == "skipped: a link to a file outside the folder"


# -- 7. secrets -----------------------------------------------------------------------------------

PW = "Hunter2Secret"


@pytest.mark.parametrize("url", [
    f"user:{PW}@db.example/kstance",  # no scheme
    f"postgresql://user:{PW[:6]}@{PW[6:]}@db.example/kstance",  # unencoded @ in the password
    f"mailto://user:{PW[:6]},{PW[6:]}@mail.example",  # , splits the list
    f"mailto://user:{PW[:6]} {PW[6:]}@mail.example",
    f"mailto://user:{PW[:6]}/{PW[6:]}@mail.example",
    f"mailto://user:{PW[:6]}",  # what is left of a URL cut at the ,
    f"{PW[6:]}@mail.example",
    f"slack://{PW}/B000/XXXXXXXXXXXX",
    f"https://hooks.slack.com/services/T000/{PW}/XXXXXXXX",
    f"json://host.example/?token={PW}",
])
def test_one_masking_function_hides_secrets_in_malformed_urls(url):
    from alerts.deliver import mask
    from extractors.redact import mask_url, scrub
    from store.repository import mask_url as store_mask

    for masked in (mask_url(url), mask(url), store_mask(url)):
        assert PW not in masked and PW[:6] not in masked and PW[6:] not in masked, masked
    assert PW[:6] not in scrub(f"error talking to {url}: refused", url)


def test_repr_of_settings_and_channels_shows_no_secret(monkeypatch, tmp_path):
    from alerts.deliver import parse_channels
    from flows.settings import load_settings

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KSTANCE_HOME", str(tmp_path / "h"))
    monkeypatch.setenv("KSTANCE_DATABASE_URL", f"postgresql+psycopg://u:{PW}@127.0.0.1:9/x")
    monkeypatch.setenv("KSTANCE_ALERT_URLS", f"mailtos://desk:{PW}1@mail.example?to=a@example.com "
                                             f"https://hooks.slack.com/services/T000AAAA/B000BBBB/{PW}XXXXXXXXXXX")
    s = load_settings()
    assert PW not in repr(s) and PW not in str(s) and PW not in repr(s.model_dump())
    assert s.db_url.endswith("@127.0.0.1:9/x") and PW in s.db_url  # the store still gets the real URL
    channels = parse_channels(s.alert_urls)
    assert len(channels) == 2
    for c in channels:
        assert PW not in repr(c) and PW not in str(c)


@pytest.mark.parametrize("db_url", [f"user:{PW}@db.example/kstance", f"postgresql+psycopg://user:{PW[:6]}@{PW[6:]}@127.0.0.1:9/x",
                                    f"postgresql+psycopg://user:{PW[:6]}/{PW[6:]}@127.0.0.1:9/x", f"nosuchdb://u:{PW}@h/x"])
def test_a_malformed_store_url_is_a_configuration_error_without_its_password(tmp_path, db_url):
    proc = run_cli(["alerts"], tmp_path, env={"KSTANCE_DATABASE_URL": db_url})
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert err.startswith("kstance: error: setting 'database_url'") and len(err.strip().splitlines()) == 1
    assert PW[:6] not in err and PW[6:] not in err, err


@pytest.mark.parametrize("sep", [",", " ", "/"])
def test_a_bad_alert_url_is_named_without_any_part_of_its_password(tmp_path, sep):
    url = f"nosuchservice://user:{PW[:6]}{sep}{PW[6:]}@host.example/x"
    proc = run_cli(["run"], tmp_path, env={"KSTANCE_ALERT_URLS": url})
    err = proc.stderr.decode()
    assert proc.returncode == 2 and "alert URL #1" in err, err
    assert PW[:6] not in err and PW[6:] not in err, err


# -- 8. links in Prefect artifacts ----------------------------------------------------------------

def test_monitor_artifact_links_are_http_only(tmp_path):
    from flows.artifacts import monitor_markdown
    from store import repository as repo

    store = repo.open_store(f"sqlite:///{tmp_path / 'k.db'}")
    arts = [Article(u, "t", "", None) for u in ("javascript:alert(document.cookie)", "file:///etc/passwd",
                                                "ftp://evil.example/x", "gopher://evil.example:70/_x", "JaVaScRiPt:x")]
    arts.append(Article("https://ok.example/a b(c)", "title](javascript:alert(1)) [x", "", None))
    md = monitor_markdown(store, {}, arts, len(arts), [])
    store.close()
    for bad in ("javascript:", "file:", "ftp:", "gopher:", "JaVaScRiPt:"):
        assert f"]({bad}" not in md and f"({bad}" not in md.replace("\\(", "")
    assert "](#)" in md and "](https://ok.example/a%20b%28c%29)" in md
    assert "title\\]\\(javascript" in md  # the title's markup is escaped text


# -- 9. robots.txt as RFC 9309 reads it -------------------------------------------------------------

def test_robots_txt_longest_match_wins_and_wildcards_apply(server):
    server.routes["/robots.txt"] = respond("User-agent: *\nDisallow: /*?print=\nDisallow: /news/\n"
                                           "Allow: /news/politics/\nDisallow: /*.pdf$\n", ctype="text/plain")
    rules, client = RobotsRules(), new_client(5, allow_private=True)
    try:
        def allowed(path):
            return rules.allowed(server.url(path), client, allow_private=True, timeout=5)

        assert not allowed("/news/1?print=1")
        assert allowed("/news/politics/summit")  # the longer Allow beats Disallow: /news/
        assert not allowed("/news/economy/1")
        assert not allowed("/files/report.pdf") and allowed("/files/report.pdf.html")
        assert allowed("/world/1")
    finally:
        client.close()


# -- 10. WARC: truncation named, a corrupt member skipped, the rest read -------------------------------

def write_warc(path: Path, n: int) -> list[int]:
    """n HTML response records, one gzip member each; returns each record's start offset."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    offsets = []
    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=True)
        for i in range(n):
            offsets.append(fh.tell())
            body = page(f"Story {i}").encode()
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            w.write_record(w.create_warc_record(f"https://news.example/{i}", "response", payload=io.BytesIO(body),
                                                http_headers=headers))
    return offsets


def test_a_truncated_warc_gz_names_the_truncation(tmp_path):
    p = tmp_path / "cut.warc.gz"
    offsets = write_warc(p, 2)
    data = p.read_bytes()
    p.write_bytes(data[: offsets[1] + (len(data) - offsets[1]) // 2])
    items = list(read_archive(p))
    arts = [i for i in items if isinstance(i, Article)]
    problems = [i for i in items if isinstance(i, ArchiveProblem)]
    assert [a.url for a in arts] == ["https://news.example/0"]
    assert len(problems) == 1 and problems[0].where == f"cut.warc.gz@{offsets[1]}"
    assert "cut short" in problems[0].reason


def test_a_corrupt_middle_member_is_reported_without_its_bytes_and_the_rest_is_read(tmp_path):
    p = tmp_path / "mid.warc.gz"
    offsets = write_warc(p, 3)
    data = bytearray(p.read_bytes())
    junk = b"\x1b[2J\x1b]0;pwned\x07" + os.urandom(64)
    data[offsets[1]: offsets[2]] = gzip.compress(junk + b"\r\n\r\n")  # a valid gzip member holding no WARC record
    p.write_bytes(bytes(data))
    items = list(read_archive(p))
    arts = [i for i in items if isinstance(i, Article)]
    problems = [i for i in items if isinstance(i, ArchiveProblem)]
    assert [a.url for a in arts] == ["https://news.example/0", "https://news.example/2"]
    assert len(problems) == 1 and problems[0].where == f"mid.warc.gz@{offsets[1]}"
    assert "corrupt WARC record" in problems[0].reason
    assert "\x1b" not in problems[0].reason and "b'" not in problems[0].reason and "pwned" not in problems[0].reason

    data = bytearray(p.read_bytes())  # and a member whose gzip itself is broken
    start = offsets[1] + 12
    data[start: start + 40] = os.urandom(40)
    p.write_bytes(bytes(data))
    items = list(read_archive(p))
    assert [i.url for i in items if isinstance(i, Article)][-1] == "https://news.example/2"


# -- 11. the report's attributes ------------------------------------------------------------------

def test_report_alt_attributes_keep_their_apostrophe(tmp_path):
    from html.parser import HTMLParser

    from reports.html import write_report
    from store import repository as repo

    store = repo.open_store(f"sqlite:///{tmp_path / 'k.db'}")
    path = write_report(store, tmp_path / "r", {})
    store.close()
    alts = []

    class Imgs(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "img" or dict(attrs).get("role") == "img":  # the charts are inline SVG (issue 16): aria-label
                alts.append(dict(attrs).get("alt") or dict(attrs).get("aria-label"))

    Imgs().feed(path.read_text(encoding="utf-8"))
    assert len(alts) == 5 and all(a.startswith("timeline of Seoul's stance toward ") for a in alts), alts
