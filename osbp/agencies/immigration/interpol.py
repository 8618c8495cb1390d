"""INTERPOL I-24/7 checks through the country's National Central Bureau (NCB) gateway (docs/agencies.md).

``adapter_for(country, config)`` gives the post's ``AlertCheck``: the HTTP adapter when the country's gateway is
configured, else one that always answers ``unavailable`` (``not_configured``). A check never passes silently: a
timeout, a refused connection, an HTTP error or an answer outside the contract all give ``status="unavailable"``
with the reason, never ``no_hit``.

The wire format is *our* gateway contract (POST ``{base}/checks``, answer ``{"hits": [...]}``), to be mapped onto the
NCB's actual interface at deployment. The HTTP client is the standard library's ``http.client``: the whole check
(connection, TLS, every retry, reading the answer) has one time budget, enforced by closing the socket at the
deadline, which a per-read socket timeout alone would not give.

Logs carry the country, a request id, the outcome, the hit count and the duration: no personal data, no document
number, never the credentials.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import logging
import socket
import ssl
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

COUNTRIES = ("RW", "CD")
STATUSES = ("no_hit", "hit", "unavailable")
REASONS = ("not_configured", "timeout", "http_error", "bad_answer", "connection")
SOURCES = ("SLTD", "TDAWN", "nominal")  # stolen and lost travel documents; documents tied to notices; persons
HIT_KINDS = ("stolen_document", "lost_document", "revoked_document", "wanted_person")
QUERY_FIELDS = (
    "document_number",
    "issuing_state",
    "document_type",
    "surname",
    "given_names",
    "birth_date",
    "nationality",
)
MAX_ANSWER_BYTES = 256 * 1024
MAX_HITS = 100
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class AlertQuery:
    """What is checked: the travel document and its holder (states and nationality as ISO 3166 alpha-3 codes)."""

    document_number: str
    issuing_state: str
    document_type: str
    surname: str
    given_names: str
    birth_date: date | None
    nationality: str

    def wire(self) -> dict:
        body = {name: getattr(self, name) for name in QUERY_FIELDS}
        body["birth_date"] = self.birth_date.isoformat() if self.birth_date else None
        return body


@dataclass(frozen=True)
class Hit:
    source: str  # SLTD, TDAWN or nominal
    reference: str  # the gateway's reference of the record, for the officer to quote to the NCB
    kind: str  # stolen_document, lost_document, revoked_document or wanted_person
    matched_on: tuple[str, ...]  # the query fields that matched


@dataclass(frozen=True)
class CheckResult:
    status: str  # no_hit, hit or unavailable
    hits: tuple[Hit, ...] = ()
    reason: str | None = None  # for unavailable: not_configured, timeout, http_error, bad_answer or connection
    duration_ms: int = 0
    request_id: str = field(default="", compare=False)

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")
        if (self.status == "unavailable") != (self.reason is not None) or (self.status == "hit") != bool(self.hits):
            raise ValueError("a hit has hits, an unavailable check has a reason, and nothing else does")
        if self.reason is not None and self.reason not in REASONS:
            raise ValueError(f"unknown reason {self.reason!r}")


class AlertCheck(Protocol):
    """One check of a document and its holder against INTERPOL's databases."""

    country: str

    def check(self, query: AlertQuery) -> CheckResult: ...


class BadAnswer(ValueError):
    """The gateway's answer is outside the contract."""


class NotConfigured:
    """The country has no gateway configured: every check is unavailable (never a pass)."""

    def __init__(self, country: str):
        self.country = country

    def check(self, query: AlertQuery) -> CheckResult:
        result = CheckResult("unavailable", reason="not_configured", request_id=uuid.uuid4().hex)
        _log(self.country, result, attempts=0)
        return result


class HttpAlertCheck:
    """The NCB gateway over HTTPS, credentials as HTTP Basic (``client id:secret``).

    ``timeout`` is the budget of the whole check, retries included; ``retries`` more attempts are made only after a
    connection error or a 5xx answer, and never once the budget is spent. TLS is verified (the system's CAs, or
    ``ca_bundle``); plain http is for 127.0.0.1/localhost only (Config.validate refuses it elsewhere).
    """

    def __init__(
        self,
        country: str,
        url: str,
        credentials: str,
        *,
        timeout: float = 2.0,
        retries: int = 1,
        ca_bundle: str = "",
    ):
        parts = urlsplit(url)
        local = parts.scheme == "http" and parts.hostname in LOCAL_HOSTS
        if not parts.hostname or not (parts.scheme == "https" or local):
            raise ValueError("the gateway URL must be an https:// URL (http only on 127.0.0.1/localhost)")
        client_id, sep, secret = credentials.partition(":")
        if not sep or not client_id or not secret:
            raise ValueError("the gateway credentials must be client_id:secret")
        self.country = country
        self.timeout = timeout
        self.retries = retries
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._path = parts.path.rstrip("/") + "/checks"
        self._authorization = "Basic " + base64.b64encode(credentials.encode()).decode("ascii")
        self._tls = None
        if self._https:
            try:
                self._tls = ssl.create_default_context(cafile=ca_bundle or None)
            except (OSError, ValueError):  # the bundle went missing or bad since start-up (Config.validate reads it)
                logger.error("interpol gateway of %s: the CA bundle cannot be read; checks are unavailable", country)
            else:
                self._tls.minimum_version = ssl.TLSVersion.TLSv1_2

    def __repr__(self) -> str:  # never the credentials
        return f"HttpAlertCheck(country={self.country!r}, host={self._host!r})"

    def check(self, query: AlertQuery) -> CheckResult:
        request_id = uuid.uuid4().hex
        body = json.dumps(query.wire()).encode()
        started = time.monotonic()
        deadline = started + self.timeout
        reason, attempts, hits = "timeout", 0, None
        while attempts <= self.retries and time.monotonic() < deadline:
            attempts += 1
            try:
                status, answer = self._post(body, request_id, deadline)
            except _Expired:
                reason = "timeout"
                break
            except (OSError, http.client.HTTPException):
                reason = "connection"
                continue
            except Exception as error:  # anything else the client raises is still unavailable, never a pass
                logger.warning("interpol check country=%s request=%s failed: %s", self.country, request_id, type(error))
                reason = "connection"
                break
            if status >= 500:
                reason = "http_error"
                continue
            if status != 200:
                reason = "http_error"
                break
            try:
                hits = parse_answer(answer)
            except BadAnswer:
                reason = "bad_answer"
            break
        duration_ms = round((time.monotonic() - started) * 1000)
        if hits is None:
            result = CheckResult("unavailable", reason=reason, duration_ms=duration_ms, request_id=request_id)
        else:
            status = "hit" if hits else "no_hit"
            result = CheckResult(status, hits=hits, duration_ms=duration_ms, request_id=request_id)
        _log(self.country, result, attempts=attempts)
        return result

    def _post(self, body: bytes, request_id: str, deadline: float) -> tuple[int, bytes]:
        """One attempt: (HTTP status, answer bytes); _Expired once the deadline passes, whatever was blocking."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _Expired
        if self._https and self._tls is None:
            raise ssl.SSLError("no TLS context")
        if self._https:
            connection = http.client.HTTPSConnection(self._host, self._port, timeout=remaining, context=self._tls)
        else:
            connection = http.client.HTTPConnection(self._host, self._port, timeout=remaining)
        watchdog = raw = None
        expired = threading.Event()
        try:
            # Connected by hand so the watchdog holds the socket before the TLS handshake: it bounds that too.
            raw = socket.create_connection((connection.host, connection.port), timeout=remaining)
            watchdog = threading.Timer(max(deadline - time.monotonic(), 0), _cut, (raw, expired))
            watchdog.daemon = True
            watchdog.start()
            connection.sock = self._tls.wrap_socket(raw, server_hostname=self._host) if self._https else raw
            connection.request(
                "POST",
                self._path,
                body=body,
                headers={
                    "Authorization": self._authorization,
                    "Content-Type": "application/json",
                    "Accept": "application/json",
                    "X-Request-ID": request_id,
                },
            )
            response = connection.getresponse()
            answer = response.read(MAX_ANSWER_BYTES + 1)
            if expired.is_set():
                raise _Expired
            return response.status, answer
        except (OSError, http.client.HTTPException) as error:
            if expired.is_set() or isinstance(error, TimeoutError) or time.monotonic() >= deadline:
                raise _Expired from None
            raise
        finally:
            if watchdog is not None:
                watchdog.cancel()
            connection.close()
            if raw is not None:
                raw.close()


class _Expired(Exception):
    """The check's time budget ran out."""


def _cut(sock, expired: threading.Event) -> None:
    """At the deadline: end whatever read or write the check is blocked in."""
    expired.set()
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


def parse_answer(answer: bytes) -> tuple[Hit, ...]:
    """The gateway's ``{"hits": [...]}`` as Hits; BadAnswer for anything outside the contract (docs/agencies.md)."""
    if len(answer) > MAX_ANSWER_BYTES:
        raise BadAnswer("answer too large")
    try:
        document = json.loads(answer)
    except (ValueError, UnicodeDecodeError):
        raise BadAnswer("not JSON") from None
    if not isinstance(document, dict) or not isinstance(document.get("hits"), list):
        raise BadAnswer("no hits list")
    if len(document["hits"]) > MAX_HITS:
        raise BadAnswer("too many hits")
    return tuple(_hit(item) for item in document["hits"])


def _hit(item) -> Hit:
    if not isinstance(item, dict):
        raise BadAnswer("a hit is not an object")
    source, reference, kind, matched_on = (item.get(k) for k in ("source", "reference", "kind", "matched_on"))
    if source not in SOURCES or kind not in HIT_KINDS:
        raise BadAnswer("unknown source or kind")
    if not isinstance(reference, str) or not 0 < len(reference) <= 100:
        raise BadAnswer("bad reference")
    if not isinstance(matched_on, list) or not matched_on or any(name not in QUERY_FIELDS for name in matched_on):
        raise BadAnswer("bad matched_on")
    return Hit(source=source, reference=reference, kind=kind, matched_on=tuple(matched_on))


def _log(country: str, result: CheckResult, *, attempts: int) -> None:
    logger.info(
        "interpol check country=%s request=%s status=%s reason=%s hits=%d attempts=%d duration_ms=%d",
        country,
        result.request_id,
        result.status,
        result.reason or "-",
        len(result.hits),
        attempts,
        result.duration_ms,
    )


def adapter_for(country: str, config) -> AlertCheck:
    """The country's (RW or CD) adapter from the configuration: HTTP when its gateway URL is set, else NotConfigured."""
    if country not in COUNTRIES:
        raise ValueError(f"no INTERPOL gateway setting for country {country!r}; one of {COUNTRIES}")
    prefix = f"interpol_{country.lower()}"
    url = getattr(config, f"{prefix}_url")
    credentials = getattr(config, f"{prefix}_credentials")
    if not url or not credentials:
        return NotConfigured(country)
    return HttpAlertCheck(
        country,
        url,
        credentials,
        timeout=config.interpol_timeout_seconds,
        retries=config.interpol_retries,
        ca_bundle=getattr(config, f"{prefix}_ca_bundle"),
    )
