"""One polite HTTP GET: timeouts, a size cap, limited redirects, conditional headers, a kstance User-Agent.

What a hostile server cannot do to it:
- move the fetch to a private address: every hop's host is resolved once, by the transport, each address
  checked, and the connection made to a checked address (Host and TLS SNI keep the name);
- hold it longer than `timeout`: one deadline for the whole request (connect, TLS, headers, body), every
  socket read and write bounded by what is left of it;
- fill memory: the body is decoded here, layer by layer, each layer capped at `max_bytes` while it inflates.
"""
from __future__ import annotations

import re
import threading
import time
import zlib
from dataclasses import dataclass
from typing import Iterable, Iterator

import httpcore
import httpx

from extractors.urls import RefusedURL, check_fetchable, resolve_checked
from vocab.errors import RunError

USER_AGENT = "kstance/0.1 (+https://github.com/kstance/kstance; Korean foreign-policy monitor)"
MAX_BYTES = 10 * 1024 * 1024
TIMEOUT_S = 20.0
MAX_REDIRECTS = 5
MAX_CODINGS = 2  # content codings stacked on one body ("gzip, gzip" is legal; more is an attack, not a server)
_PIECE = 64 * 1024  # the most one decompression step may produce


# statuses worth asking again later (the server overloaded or down for a moment), and the transport errors that pass
RETRYABLE_STATUSES = frozenset({408, 425, 429, *range(500, 600)})
_PASSING_TRANSPORT = re.compile(r"(Connect|Read|Write|RemoteProtocol|Network|Pool)\w*Error")


class FetchError(RunError):
    """A fetch that failed; the message is one line that says why. `status` is the HTTP status when the server
    answered with an error, and `retryable` says whether the same fetch may succeed later."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False):
        super().__init__(message)
        self.status = status
        self.retryable = retryable


@dataclass
class Response:
    url: str  # after redirects
    status: int
    body: bytes
    etag: str | None
    last_modified: str | None
    content_type: str

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def get(
    url: str,
    *,
    client: httpx.Client | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    allow_private: bool = False,
    max_bytes: int = MAX_BYTES,
    timeout: float = TIMEOUT_S,
) -> Response:
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    # the URL rules are checked by the client's request hook (scheme, host) and its transport (addresses), once
    # per request, redirects included: clients must come from new_client
    own = client is None
    client = client or new_client(timeout, allow_private=allow_private)
    previous = getattr(_deadline, "at", None)
    _deadline.at = time.monotonic() + timeout
    try:
        check_fetchable(url, resolve=False)
        with client.stream("GET", url, headers=headers, timeout=timeout) as r:
            if r.status_code == 304:
                return Response(str(r.url), 304, b"", etag, last_modified, "")
            return _read(r, max_bytes, timeout)
    except RefusedURL as exc:
        raise FetchError(f"refused: {exc}") from None
    except httpx.TooManyRedirects:
        raise FetchError(f"more than {MAX_REDIRECTS} redirects") from None
    except (httpx.TimeoutException, httpcore.TimeoutException):
        raise FetchError(f"timed out after {timeout:g} s", retryable=True) from None
    except httpx.HTTPError as exc:
        raise FetchError(f"{type(exc).__name__}: {str(exc)[:160] or 'connection failed'}",
                         retryable=bool(_PASSING_TRANSPORT.match(type(exc).__name__))) from None
    except (httpx.InvalidURL, httpx.CookieConflict, UnicodeError, ValueError) as exc:
        # a malformed address (0177.0.0.1, full-width or empty labels) in the feed or in a redirect
        raise FetchError(f"bad URL: {type(exc).__name__}: {str(exc)[:160]}") from None
    finally:
        _deadline.at = previous
        if own:
            client.close()


def _read(r: httpx.Response, max_bytes: int, timeout: float) -> Response:
    """An answer's body, decoded and capped at max_bytes; an error status raises with its status."""
    if r.status_code >= 400:
        raise FetchError(f"HTTP {r.status_code}", status=r.status_code, retryable=r.status_code in RETRYABLE_STATUSES)
    declared = r.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"response too large ({int(declared)} bytes > {max_bytes})")
    chunks, size = [], 0
    for chunk in decode_body(r.iter_raw(), r.headers.get("content-encoding", ""), max_bytes):
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(f"response too large (over {max_bytes} bytes)")
        chunks.append(chunk)
        _bounded(timeout)  # a body dripped a byte at a time still ends at the deadline
    return Response(
        str(r.url), r.status_code, b"".join(chunks), r.headers.get("etag"),
        r.headers.get("last-modified"), r.headers.get("content-type", ""),
    )


# -- content codings, each layer capped -----------------------------------------------------------

def decode_body(raw: Iterable[bytes], content_encoding: str, max_bytes: int) -> Iterator[bytes]:
    """The body with its content codings undone (in reverse order of application), never letting one layer
    produce more than max_bytes, nor one step more than 64 KB: a small response inflating to gigabytes,
    however many layers deep, is cut off at the cap without being held."""
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    if len(codings) > MAX_CODINGS:
        raise FetchError(f"refused: {len(codings)} content codings stacked ({content_encoding[:60]!r})")
    stream: Iterable[bytes] = raw
    for coding in reversed(codings):
        if coding in ("gzip", "x-gzip"):
            stream = _inflate(stream, zlib.MAX_WBITS | 16, max_bytes, coding)
        elif coding == "deflate":
            stream = _inflate(stream, None, max_bytes, coding)
        else:
            raise FetchError(f"unsupported content coding {coding[:40]!r}")
    return iter(stream)


def _inflate(stream: Iterable[bytes], wbits: int | None, max_bytes: int, coding: str) -> Iterator[bytes]:
    d = zlib.decompressobj(wbits if wbits is not None else zlib.MAX_WBITS)
    first, total = wbits is None, 0
    try:
        for data in stream:
            while data:
                try:
                    out = d.decompress(data, _PIECE)
                except zlib.error:
                    if not first:
                        raise
                    d = zlib.decompressobj(-zlib.MAX_WBITS)  # "deflate" sent raw, as some servers do
                    first = False
                    continue
                first = False
                data = d.unconsumed_tail
                total += len(out)
                if total > max_bytes:
                    raise FetchError(f"response too large (a {coding} layer inflates past {max_bytes} bytes)")
                if out:
                    yield out
                if d.eof:
                    break
            while True:  # output zlib still holds for input already taken
                out = d.decompress(b"", _PIECE)
                total += len(out)
                if total > max_bytes:
                    raise FetchError(f"response too large (a {coding} layer inflates past {max_bytes} bytes)")
                if not out:
                    break
                yield out
            if d.eof:
                break
        rest = d.flush()
        if len(rest) + total > max_bytes:
            raise FetchError(f"response too large (a {coding} layer inflates past {max_bytes} bytes)")
        if rest:
            yield rest
    except zlib.error as exc:
        raise FetchError(f"corrupt {coding} body: {exc}") from None


# -- the transport: resolve once, connect to the checked address, one deadline per request ------------

_deadline = threading.local()


def _bounded(timeout: float | None) -> float | None:
    """A socket operation's timeout cut to what is left of the current request's deadline."""
    at = getattr(_deadline, "at", None)
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("the request's deadline has passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream):
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context, server_hostname: str | None = None, timeout: float | None = None):
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, _bounded(timeout)))

    def get_extra_info(self, info: str):
        return self._inner.get_extra_info(info)


class _PinnedBackend(httpcore.NetworkBackend):
    """Connects to the addresses resolve_checked approved for the host, never to a second DNS answer."""

    def __init__(self, allow_private: bool):
        self.allow_private = allow_private
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options=None) -> httpcore.NetworkStream:
        addrs = resolve_checked(host, port, allow_private=self.allow_private)
        error: Exception | None = None
        for addr in addrs:
            try:
                return _DeadlineStream(self._inner.connect_tcp(addr, port, _bounded(timeout), local_address,
                                                               socket_options))
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        raise error  # type: ignore[misc]

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options=None):
        raise RefusedURL("unix sockets are not fetched")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _pinned_transport(max_connections: int, allow_private: bool) -> httpx.HTTPTransport:
    transport = httpx.HTTPTransport(limits=httpx.Limits(max_connections=max_connections), trust_env=False)
    # httpx does not take a network backend; its pool (httpcore.ConnectionPool) does, and has no connection yet
    transport._pool._network_backend = _PinnedBackend(allow_private)
    return transport


def new_client(timeout: float = TIMEOUT_S, max_connections: int = 8, *, allow_private: bool = False) -> httpx.Client:
    """A client whose every request, redirects included, passes check_fetchable before it is sent, and whose
    connections go only to addresses the SSRF rules allow."""

    def _check(request: httpx.Request) -> None:
        check_fetchable(str(request.url), resolve=False)

    return httpx.Client(
        event_hooks={"request": [_check]},
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        timeout=timeout,
        transport=_pinned_transport(max_connections, allow_private),
        trust_env=False,
    )
