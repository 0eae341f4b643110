"""One polite HTTP GET: timeouts, a size cap, limited redirects, conditional headers, a kstance User-Agent."""
from __future__ import annotations

from dataclasses import dataclass

import httpx

from extractors.urls import RefusedURL, check_fetchable

USER_AGENT = "kstance/0.1 (+https://github.com/kstance/kstance; Korean foreign-policy monitor)"
MAX_BYTES = 10 * 1024 * 1024
TIMEOUT_S = 20.0
MAX_REDIRECTS = 5


class FetchError(Exception):
    """A fetch that failed; the message is one line that says why."""


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
    # the URL rules are checked by the client's request hook, once per request, redirects included:
    # clients must come from new_client
    own = client is None
    client = client or new_client(timeout, allow_private=allow_private)
    try:
        check_fetchable(url, allow_private=True)  # scheme and host only (no DNS): the hook resolves, once
        with client.stream("GET", url, headers=headers, timeout=timeout) as r:
            if r.status_code == 304:
                return Response(str(r.url), 304, b"", etag, last_modified, "")
            if r.status_code >= 400:
                raise FetchError(f"HTTP {r.status_code}")
            declared = r.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise FetchError(f"response too large ({int(declared)} bytes > {max_bytes})")
            chunks, size = [], 0
            for chunk in r.iter_bytes():  # decompressed bytes: this also caps gzip bombs
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(f"response too large (over {max_bytes} bytes)")
                chunks.append(chunk)
            return Response(
                str(r.url), r.status_code, b"".join(chunks), r.headers.get("etag"),
                r.headers.get("last-modified"), r.headers.get("content-type", ""),
            )
    except RefusedURL as exc:
        raise FetchError(f"refused: {exc}") from None
    except httpx.TooManyRedirects:
        raise FetchError(f"more than {MAX_REDIRECTS} redirects") from None
    except httpx.TimeoutException:
        raise FetchError(f"timed out after {timeout:g} s") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"{type(exc).__name__}: {str(exc)[:160] or 'connection failed'}") from None
    finally:
        if own:
            client.close()


def new_client(timeout: float = TIMEOUT_S, max_connections: int = 8, *, allow_private: bool = False) -> httpx.Client:
    """A client whose every request, redirects included, passes check_fetchable before it is sent."""

    def _check(request: httpx.Request) -> None:
        check_fetchable(str(request.url), allow_private=allow_private)

    return httpx.Client(
        event_hooks={"request": [_check]},
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        timeout=timeout,
        limits=httpx.Limits(max_connections=max_connections),
        trust_env=False,
    )
