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


# Never fetched unless allow_private is set: besides what ipaddress calls private, loopback, link-local, reserved
# or multicast, carrier-grade NAT (RFC 6598) and the IETF protocol assignments (RFC 6890), which are_global misses
# in some Python versions, and IPv6 forms that embed an IPv4 address (mapped, NAT64, 6to4).
_REFUSED_NETWORKS = [ipaddress.ip_network(n) for n in ("100.64.0.0/10", "192.0.0.0/24", "0.0.0.0/8", "198.18.0.0/15")]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def is_public_address(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(addr, ipaddress.IPv6Address):
        embedded = addr.ipv4_mapped or addr.sixtofour or (ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
                                                          if addr in _NAT64 else None)
        if embedded is not None:
            return is_public_address(embedded)
    if any(addr in net for net in _REFUSED_NETWORKS if net.version == addr.version):
        return False
    return addr.is_global and not (addr.is_loopback or addr.is_private or addr.is_link_local or addr.is_reserved
                                   or addr.is_multicast or addr.is_unspecified)


def resolve_checked(host: str, port: int | None = None, *, allow_private: bool = False) -> list[str]:
    """The addresses to connect to for `host`, each checked: a lookup that fails, or any address that is not
    public (unless allow_private), refuses the URL. The caller connects to these addresses and to nothing
    resolved later, so a second DNS answer cannot move the fetch to another address."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise RefusedURL(f"cannot resolve {host!r}: {exc}") from None
    addrs: list[str] = []
    for info in infos:
        text = str(info[4][0]).split("%")[0]
        addr = ipaddress.ip_address(text)
        if not allow_private and not is_public_address(addr):
            raise RefusedURL(f"{host} resolves to a non-public address ({addr}); set allow_private_addresses to fetch it")
        if text not in addrs:
            addrs.append(text)
    if not addrs:
        raise RefusedURL(f"cannot resolve {host!r}: no address")
    return addrs


def check_fetchable(url: str, *, allow_private: bool = False, resolve: bool = True) -> None:
    """Raise RefusedURL unless the URL is http(s) to a public address (or allow_private is set).
    resolve=False checks scheme and host only (the fetching transport resolves and checks, once)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:
        raise RefusedURL(f"not a URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise RefusedURL(f"only http and https are fetched, not {parts.scheme or 'a bare path'!r}")
    if not host:
        raise RefusedURL("no host in URL")
    if allow_private or not resolve:
        return
    resolve_checked(host, allow_private=False)
