"""URL canonicalisation and the rules for what may be fetched."""
from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters that only track the reader; dropping them folds copies of one article together.
_TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "piwik_", "hsa_", "oly_", "vero_")
_TRACKING_NAMES = {
    "fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "mkt_tok", "ref", "ref_src", "referrer",
    "cmpid", "cmp", "ito", "s_cid", "src", "ocid", "share", "from", "rss", "feed", "ncid", "sr_share",
}
_MOBILE_PREFIXES = ("www.", "m.", "mobile.", "amp.")


class RefusedURL(ValueError):
    """A URL kstance will not fetch; the message says why."""


def canonical_url(url: str) -> str:
    """Fold the variants of one article's address into one key.

    Lower-cases scheme and host, drops www./m./amp. host prefixes, default ports, fragments,
    tracking parameters and AMP path suffixes, and sorts the remaining query parameters.
    """
    url = url.strip()
    parts = urlsplit(url)
    scheme = parts.scheme.lower() or "http"
    host = (parts.hostname or "").lower().rstrip(".")
    for prefix in _MOBILE_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix):]
            break
    port = parts.port if parts.port not in (None, 80, 443) else None
    netloc = f"{host}:{port}" if port else host
    path = parts.path or "/"
    for suffix in ("/amp/", "/amp", ".amp", "/amp.html"):
        if path.endswith(suffix) and len(path) > len(suffix):
            path = path[: -len(suffix)] or "/"
            break
    if path.startswith("/amp/"):
        path = path[4:]
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/")
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith(_TRACKING_PREFIXES) and k.lower() not in _TRACKING_NAMES and k.lower() != "amp"
    ]
    query.sort()
    return urlunsplit(("https" if scheme in ("http", "https") else scheme, netloc, path, urlencode(query), ""))


def safe_link(url: str) -> str:
    """The URL if it is http(s), else "#": what an alert or report may put behind a link."""
    return url if re.match(r"^https?://", url, re.I) else "#"


def check_fetchable(url: str, *, allow_private: bool = False) -> None:
    """Raise RefusedURL unless the URL is http(s) to a public address (or allow_private is set)."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise RefusedURL(f"not a URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise RefusedURL(f"only http and https are fetched, not {parts.scheme or 'a bare path'!r}")
    host = parts.hostname
    if not host:
        raise RefusedURL("no host in URL")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return  # resolution fails later with a clearer network error
    for info in infos:
        addr = ipaddress.ip_address(info[4][0].split("%")[0])
        if addr.is_loopback or addr.is_private or addr.is_link_local or addr.is_reserved or addr.is_multicast:
            raise RefusedURL(f"{host} resolves to a non-public address ({addr}); set allow_private_addresses to fetch it")
