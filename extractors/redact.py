"""Secrets out of what is printed: one masking function for every URL kstance may show (store, alert
channels), whatever shape the user typed it in, and scrubbing of messages that may quote a URL."""
from __future__ import annotations

import ipaddress
import re
from urllib.parse import unquote

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://(.*)$", re.S)
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_\-]{0,62})(?:\.[A-Za-z0-9_\-]{1,63})*\.?$")


def _shown_host(host: str) -> str:
    """The host as shown: a name with a dot, an IP address or localhost; anything else (a token, a password
    fragment left by a malformed URL) is hidden."""
    name, port = host, ""
    if host.startswith("["):
        name, _, rest = host[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return "***"
        name = f"[{name}]"
    elif ":" in host:
        name, _, port = host.partition(":")
    if port and not port.isdigit():
        return "***"
    plain = name.strip("[]")
    try:
        ipaddress.ip_address(plain)
        ok = True
    except ValueError:
        ok = plain == "localhost" or ("." in plain and bool(_HOSTNAME.match(plain)))
    if not ok:
        return "***"
    return f"{name}:{port}" if port else name


def mask_url(url: object) -> str:
    """A URL with its user, password, path and query hidden: `scheme://***@host:port/***`.

    Copes with what a person may type: no scheme, an unencoded `@`, `/`, `,` or space in the password
    (everything up to the last `@` counts as user information), a fragment of a URL split in two."""
    text = str(url.get_secret_value() if hasattr(url, "get_secret_value") else url).strip()
    m = _SCHEME.match(text)
    scheme, rest = (m[1].lower(), m[2]) if m else (None, text)
    has_user = "@" in rest
    after = rest.rsplit("@", 1)[-1]
    host = re.split(r"[/?#\s]", after, maxsplit=1)[0]
    shown = _shown_host(host) if host else ""
    tail = "/***" if len(after) > len(host) else ""
    prefix = f"{scheme}://" if scheme else ""
    if not scheme and not has_user:
        return "***"  # not a URL at all: nothing of it is safe to show
    return f"{prefix}{'***@' if has_user else ''}{shown}{tail}"


def url_secrets(url: object) -> set[str]:
    """The parts of a URL that must never be printed: user information, long path segments, credential-like
    query values, each also percent-decoded."""
    text = str(url.get_secret_value() if hasattr(url, "get_secret_value") else url).strip()
    m = _SCHEME.match(text)
    rest = m[2] if m else text
    found: set[str] = set()
    if "@" in rest:
        userinfo = rest.rsplit("@", 1)[0]
        found.add(userinfo)
        if ":" in userinfo:
            found.add(userinfo.split(":", 1)[1])
    after = rest.rsplit("@", 1)[-1]
    if not m and "@" not in rest:
        found.add(rest)  # not a URL at all (a fragment of one): all of it
    authority = re.split(r"[/?#]", after, maxsplit=1)[0]
    if _shown_host(authority) == "***":
        found.add(authority)  # "user:password" left without its host, or a token where the host goes
        if ":" in authority:
            found.add(authority.split(":", 1)[1])
    path, _, query = after.partition("?")
    found.update(seg for seg in path.split("/")[1:] if len(seg) >= 6)
    for kv in query.split("&"):
        k, _, v = kv.partition("=")
        secret_name = k.lower() in ("pass", "password", "pwd", "token", "key", "secret", "apikey", "webhook")
        if v and (secret_name or len(v) >= 16):
            found.add(v)
    found |= {unquote(s) for s in found}
    return {s for s in found if s}


def scrub(text: str, *urls: object) -> str:
    """The message with every secret part of the given URLs replaced by ***."""
    secrets: set[str] = set()
    for url in urls:
        secrets |= url_secrets(url)
    for s in sorted(secrets, key=len, reverse=True):
        text = text.replace(s, "***")
    return text
