"""When to retry, and how long to wait: exponential backoff with jitter,
``Retry-After`` honoured, bounded in attempts and in total time."""

from __future__ import annotations

import datetime as dt
import email.utils
import random
import time
from dataclasses import dataclass, field

import httpx

from customer_context.errors import APIConnectionError, ContextAPIError, error_for


@dataclass(frozen=True)
class RetryPolicy:
    """How idempotent requests are retried.

    On 429, 502, 503 and 504 answers and on connection errors and timeouts,
    wait ``Retry-After`` when the server sent it, else ``backoff * 2**n``
    seconds (at most ``max_backoff``) with jitter, and try again: at most
    ``max_attempts`` attempts in all and ``max_total`` seconds from the first
    attempt (a wait that would end later is not started: the error is raised
    with its ``retry_after``). ``RetryPolicy(max_attempts=1)`` never retries.
    """

    max_attempts: int = 4
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_total: float = 30.0
    statuses: frozenset[int] = field(default=frozenset({429, 502, 503, 504}))

    def backoff_delay(self, attempt: int) -> float:
        """Seconds before attempt ``attempt + 1``: half fixed, half random."""
        cap = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        return cap / 2 + random.uniform(0, cap / 2)


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header (seconds or an HTTP date) in seconds, or None."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def error_from_response(response: httpx.Response) -> ContextAPIError:
    code, message, details = "http_error", response.reason_phrase or "HTTP error", None
    try:
        error = response.json()["error"]
        code, message, details = str(error["code"]), str(error["message"]), error.get("details")
    except (ValueError, KeyError, TypeError):
        pass
    return error_for(response.status_code, code, message, details, retry_after_seconds(response.headers.get("Retry-After")))


class Attempts:
    """One request's attempts: after each failure, the wait before the next, or None to give up."""

    def __init__(self, policy: RetryPolicy, *, idempotent: bool) -> None:
        self.policy = policy
        self.idempotent = idempotent
        self.started = time.monotonic()
        self.count = 0

    def start(self) -> None:
        self.count += 1

    def wait_after(self, error: ContextAPIError) -> float | None:
        retryable = isinstance(error, APIConnectionError) or error.status_code in self.policy.statuses
        if not (self.idempotent and retryable) or self.count >= self.policy.max_attempts:
            return None
        delay = error.retry_after if error.retry_after is not None else self.policy.backoff_delay(self.count)
        remaining = self.policy.max_total - (time.monotonic() - self.started)
        return delay if delay <= remaining else None


def connection_error(exc: httpx.TransportError) -> APIConnectionError:
    return APIConnectionError(None, "connection_error", f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
