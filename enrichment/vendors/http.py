"""The shared HTTP client and the typed errors every vendor client raises.

One :class:`httpx.Client` per process (connection pooling, explicit connect and
read timeouts, a User-Agent). It is created lazily and again after a fork, so a
Celery prefork child never shares sockets with its parent.

Vendor clients turn every failure into a :class:`VendorError` subclass; the
tasks decide from the class alone whether to retry, wait, or give up:

==================  ========  ===============================================
error               retried   meaning
==================  ========  ===============================================
VendorTimeout       yes       connect or read timeout
VendorUnavailable   yes       connection refused/reset (vendor or network down)
VendorServerError   yes       HTTP 5xx
VendorRateLimited   yes       HTTP 429; ``retry_after`` seconds when known
VendorQueued        yes       Clearbit 202: lookup queued, ask again later
VendorAuthError     no        401/402/403: bad key or quota; fix the settings
VendorBadResponse   no        unparseable body or wrong content type
==================  ========  ===============================================
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from django.conf import settings
from django.core.signals import setting_changed


class VendorError(Exception):
    """A vendor call that did not produce an answer."""

    retryable = False
    #: counts towards opening the vendor's circuit
    trips_circuit = True

    def __init__(self, vendor: str, message: str, *, status: int | None = None):
        super().__init__(f"{vendor}: {message}")
        self.vendor = vendor
        self.message = message
        self.status = status


class VendorTimeout(VendorError):
    retryable = True


class VendorUnavailable(VendorError):
    retryable = True


class VendorServerError(VendorError):
    retryable = True


class VendorRateLimited(VendorError):
    retryable = True
    trips_circuit = False  # the vendor is up; we are too fast

    def __init__(self, vendor: str, message: str, *, status: int | None = 429, retry_after: float | None = None):
        super().__init__(vendor, message, status=status)
        self.retry_after = retry_after


class VendorQueued(VendorError):
    retryable = True
    trips_circuit = False

    def __init__(self, vendor: str, message: str = "lookup queued", *, status: int | None = 202, retry_after: float | None = None):
        super().__init__(vendor, message, status=status)
        self.retry_after = retry_after


class VendorAuthError(VendorError):
    retryable = False


class VendorBadResponse(VendorError):
    retryable = False


# -- the shared client ------------------------------------------------------------
_client: httpx.Client | None = None
_client_pid: int | None = None
_lock = threading.Lock()


def _build_client() -> httpx.Client:
    timeout = httpx.Timeout(
        connect=settings.EXTERNAL_HTTP_CONNECT_TIMEOUT,
        read=settings.EXTERNAL_HTTP_READ_TIMEOUT,
        write=settings.EXTERNAL_HTTP_READ_TIMEOUT,
        pool=settings.EXTERNAL_HTTP_CONNECT_TIMEOUT,
    )
    return httpx.Client(
        timeout=timeout,
        headers={"User-Agent": settings.EXTERNAL_HTTP_USER_AGENT, "Accept": "application/json"},
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
        follow_redirects=False,
        trust_env=False,  # no proxy or netrc surprises from the worker's environment
    )


def get_http_client() -> httpx.Client:
    """This process's client (built on first use, and again after a fork)."""
    global _client, _client_pid
    pid = os.getpid()
    client = _client
    if client is None or _client_pid != pid:
        with _lock:
            if _client is None or _client_pid != pid:
                _client = _build_client()  # a forked child's inherited client is dropped, not closed
                _client_pid = pid
            client = _client
    return client


def reset_http_client(**_kwargs: Any) -> None:
    global _client, _client_pid
    with _lock:
        if _client is not None and _client_pid == os.getpid():
            _client.close()
        _client, _client_pid = None, None


setting_changed.connect(reset_http_client)


def send(vendor: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request through the shared client, transport failures mapped to
    :class:`VendorTimeout` / :class:`VendorUnavailable`. Secrets are never in
    the messages: only the vendor and the failure's kind."""
    try:
        return get_http_client().request(method, url, **kwargs)
    except httpx.TimeoutException as exc:
        raise VendorTimeout(vendor, f"{type(exc).__name__} after {_timeout_text()}") from exc
    except httpx.TransportError as exc:
        raise VendorUnavailable(vendor, type(exc).__name__) from exc


def _timeout_text() -> str:
    return f"connect {settings.EXTERNAL_HTTP_CONNECT_TIMEOUT:g}s / read {settings.EXTERNAL_HTTP_READ_TIMEOUT:g}s"


def json_body(vendor: str, response: httpx.Response) -> Any:
    """The response's JSON, or :class:`VendorBadResponse` when it is not JSON
    (wrong content type, or a body that does not parse)."""
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise VendorBadResponse(
            vendor, f"HTTP {response.status_code} with content type {content_type or 'none'!r}", status=response.status_code
        )
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise VendorBadResponse(vendor, f"HTTP {response.status_code} with malformed JSON", status=response.status_code) from exc


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Seconds from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    raw = response.headers.get("retry-after")
    if not raw:
        return None
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def raise_for_common(vendor: str, response: httpx.Response, message: str = "") -> None:
    """The statuses every vendor answers the same way: 401/402/403 auth,
    429 rate limit, 5xx server errors."""
    status = response.status_code
    detail = f"HTTP {status}" + (f": {message}" if message else "")
    if status in (401, 402, 403):
        raise VendorAuthError(vendor, detail, status=status)
    if status == 429:
        raise VendorRateLimited(vendor, detail, retry_after=retry_after_seconds(response))
    if status >= 500:
        raise VendorServerError(vendor, detail, status=status)
