"""What happened on the wire while apprise sent one alert: did the request leave, and did an answer come back?

apprise reports a bool and a log line; it cannot say whether a webhook that timed out had already received
the POST. That distinction is the whole of at-most-once delivery, so the transports apprise uses (requests for
HTTP plugins, smtplib for email) are observed while kstance sends, and each outcome is classified:

- `sent`: the peer accepted it (2xx, SMTP 250);
- `failed`: it certainly did not arrive (no connection, TLS refused, DNS) or the peer refused it with an answer
  (4xx/5xx, an SMTP error code): safe to send again;
- `unknown`: the request left and no answer came (read timeout, connection reset or closed after sending):
  it may have arrived, so under at-most-once it is not sent again without a person's word.
"""
from __future__ import annotations

import smtplib
import socket
import threading
from contextlib import contextmanager
from dataclasses import dataclass

from vocab.states import DeliveryState

SENT, FAILED, UNKNOWN = DeliveryState.SENT, DeliveryState.FAILED, DeliveryState.UNKNOWN  # a delivery's words


@dataclass
class WireEvent:
    transport: str  # "http" or "smtp"
    outcome: str  # SENT, FAILED or UNKNOWN
    detail: str


_lock = threading.Lock()
_events: list[WireEvent] | None = None  # the events of the send in progress (sends are serialised by `observe`)
_installed = False


def _record(event: WireEvent) -> None:
    if _events is not None:
        _events.append(event)


def _http_outcome(exc: BaseException) -> tuple[str, str]:
    import requests

    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, (requests.exceptions.ConnectTimeout, requests.exceptions.SSLError,
                        requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema,
                        requests.exceptions.MissingSchema, requests.exceptions.ProxyError)):
        return FAILED, text
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return UNKNOWN, "no answer in time after the request was sent (read timeout)"
    if isinstance(exc, requests.exceptions.ConnectionError):
        # urllib3 wraps "could not connect" as NewConnectionError / NameResolutionError: nothing was sent
        from urllib3.exceptions import NameResolutionError, NewConnectionError

        cause, seen = exc, set()
        while cause is not None and id(cause) not in seen:
            seen.add(id(cause))
            if isinstance(cause, (NewConnectionError, NameResolutionError, ConnectionRefusedError)):
                return FAILED, text
            cause = getattr(cause, "reason", None) or cause.__cause__ or cause.__context__ or (
                cause.args[0] if cause.args and isinstance(cause.args[0], BaseException) else None)
        return UNKNOWN, "the connection was reset or closed after the request was sent"
    return UNKNOWN, text


def _install() -> None:
    """Wrap the transports once per process; outside `observe` the wrappers only pass through."""
    global _installed
    if _installed:
        return
    import requests.adapters

    send = requests.adapters.HTTPAdapter.send

    def observed_send(self, request, *args, **kwargs):
        try:
            response = send(self, request, *args, **kwargs)
        except Exception as exc:
            _record(WireEvent("http", *_http_outcome(exc)))
            raise
        ok = 200 <= response.status_code < 300
        _record(WireEvent("http", SENT if ok else FAILED, f"HTTP {response.status_code}"))
        return response

    requests.adapters.HTTPAdapter.send = observed_send

    sendmail = smtplib.SMTP.sendmail

    def observed_sendmail(self, *args, **kwargs):
        try:
            refused = sendmail(self, *args, **kwargs)
        except smtplib.SMTPResponseException as exc:  # the server answered with a refusal
            _record(WireEvent("smtp", FAILED, f"SMTP {exc.smtp_code}"))
            raise
        except smtplib.SMTPRecipientsRefused:
            _record(WireEvent("smtp", FAILED, "all recipients refused"))
            raise
        except (socket.timeout, TimeoutError):
            _record(WireEvent("smtp", UNKNOWN, "no answer in time after the message was sent (timeout)"))
            raise
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            _record(WireEvent("smtp", UNKNOWN, f"the connection was lost while sending: {type(exc).__name__}"))
            raise
        _record(WireEvent("smtp", SENT, "SMTP 250"))
        return refused

    smtplib.SMTP.sendmail = observed_sendmail
    _installed = True


@contextmanager
def observe():
    """Collect the wire events of one send (one at a time in this process)."""
    global _events
    with _lock:
        _install()
        _events = events = []
        try:
            yield events
        finally:
            _events = None


def classify(ok: bool, events: list[WireEvent]) -> str:
    """The outcome of one send from apprise's answer and what the wire saw. A failure with any request that
    left unanswered is unknown (even if a later one was refused: the first may have arrived)."""
    if ok:
        return SENT
    if any(e.outcome == UNKNOWN for e in events):
        return UNKNOWN
    return FAILED
