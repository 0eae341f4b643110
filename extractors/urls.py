"""URL canonicalisation and the rules for what may be fetched."""
from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from vocab.errors import InputError

# Query parameters that only track the reader: dropping them folds copies of one article together. Only names
# known to be tracking: `ref`, `src`, `from`, `feed`, `s` and the like select content on some sites (two different
# articles would fold into one key and the second be taken as already seen), so they are kept.
_TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "piwik_", "hsa_", "oly_", "vero_", "_hs", "trk_")
_TRACKING_NAMES = {
    "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid", "twclid", "ttclid",
    "li_fat_id", "mkt_tok", "ref_src", "ref_url", "cmpid", "ito", "s_cid", "ocid", "ncid", "sr_share", "_ga", "_gl",
    "wt.mc_id", "wt_mc_id", "spm", "at_medium", "at_campaign", "rb_clickid", "jsessionid", "phpsessid",
}
# Parameters that only ask for the AMP rendering of the same article.
_AMP_PARAMS = {"amp": None, "_amp": None, "outputtype": "amp", "output": "amp", "view": "amp"}
# Share codes some hosts add to every shared link (twitter.com/x.com: ?s=09, ?s=20, &t=...).
_HOST_TRACKING = {"twitter.com": {"s", "t"}, "x.com": {"s", "t"}, "youtube.com": {"si", "feature"},
                  "youtu.be": {"si", "feature"}, "instagram.com": {"igsh"}}
_MOBILE_PREFIXES = ("www.", "m.", "mobile.", "amp.")
_INDEX_FILES = ("index.html", "index.htm", "index.shtml", "default.htm", "default.html")
_UNRESERVED = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"


class RefusedURL(InputError, ValueError):
    """A URL kstance will not fetch; the message says why."""


def canonical_url(url: str) -> str:
    """Fold the variants of one article's address into one key (the dedup key; links shown to people use the
    URL as served).

    Lower-cases scheme and host (IDN hosts in their ASCII form, IPv6 hosts in brackets), drops www./m./amp. host
    prefixes, default ports, user info, fragments (except `#!` routes, which name the page), known tracking
    parameters, `;jsessionid=` path parameters, AMP forms (`/amp`, `?amp`, `?_amp=true`, `?outputType=amp`) and
    index files (`/index.html`); removes `//`, `/./` and `/../`, decodes percent-escaped unreserved characters
    (`%31` is `1`) and upper-cases the other escapes; sorts the remaining query parameters. Idempotent:
    canonical_url(canonical_url(u)) == canonical_url(u).
    """
    out = _canonical_once(url)
    for _ in range(4):  # each pass can expose one more removable form (`/amp/index.html`): run to the fixed point
        again = _canonical_once(out)
        if again == out:
            break
        out = again
    return out


def _canonical_once(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    scheme = parts.scheme.lower() or "http"
    host = _host(parts.hostname or "")
    for prefix in _MOBILE_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix):]
            break
    port = parts.port if parts.port not in (None, 80, 443) else None
    shown_host = f"[{host}]" if ":" in host else host
    netloc = f"{shown_host}:{port}" if port else shown_host
    path = _path(parts.path)
    bare_host = host.removeprefix("www.")
    host_tracking = _HOST_TRACKING.get(bare_host, set())
    query = []
    for k, v in parse_qsl(parts.query, keep_blank_values=True):
        low = k.lower()
        if low.startswith(_TRACKING_PREFIXES) or low in _TRACKING_NAMES or low in host_tracking:
            continue
        if low in _AMP_PARAMS and (_AMP_PARAMS[low] is None or v.lower() == _AMP_PARAMS[low]):
            continue
        query.append((k, v))
    query.sort()
    fragment = parts.fragment if parts.fragment.startswith("!") else ""  # `#!/story/12` routes to a page
    return urlunsplit(("https" if scheme in ("http", "https") else scheme, netloc, path, urlencode(query), fragment))


def _host(host: str) -> str:
    host = host.lower().rstrip(".")
    if ":" in host or not host or host.isascii():
        return host
    try:  # an IDN host in its ASCII (punycode) form: one key whichever form a feed used
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def _path(path: str) -> str:
    path = re.sub(r";jsessionid=[^/?#;]*", "", path, flags=re.I)
    path = re.sub(r"%([0-9A-Fa-f]{2})", _escape, path)
    path = quote(path, safe=_PATH_SAFE)  # spaces and non-ASCII escaped, existing escapes kept
    path = re.sub(r"/{2,}", "/", path or "/")
    path = _remove_dot_segments(path if path.startswith("/") else "/" + path)
    for index in _INDEX_FILES:
        if path.lower().endswith("/" + index):
            path = path[: -len(index)]
            break
    for suffix in ("/amp/", "/amp", ".amp", "/amp.html"):
        if path.endswith(suffix) and len(path) > len(suffix):
            path = path[: -len(suffix)] or "/"
            break
    if path.startswith("/amp/"):
        path = path[4:]
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    return path or "/"


def _escape(m: re.Match) -> str:
    ch = chr(int(m.group(1), 16))
    return ch if ch in _UNRESERVED else "%" + m.group(1).upper()


def _remove_dot_segments(path: str) -> str:
    out: list[str] = []
    segments = path.split("/")
    for i, seg in enumerate(segments):
        if seg == ".":
            if i == len(segments) - 1:
                out.append("")
            continue
        if seg == "..":
            if len(out) > 1:
                out.pop()
            if i == len(segments) - 1:
                out.append("")
            continue
        out.append(seg)
    return "/".join(out) or "/"


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
            raise RefusedURL(f"{host} resolves to a non-public address ({addr}); "
                             "set allow_private_addresses to fetch it")
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
