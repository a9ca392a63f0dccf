"""Per-token rate limiting.

``API_THROTTLE_RATE`` (env, default ``600/min``) is ``N/period`` with the
period ``s``/``sec``/``second``, ``m``/``min``/``minute``, ``h``/``hour`` or
``d``/``day``, optionally with a count (``100/10s``); ``off`` disables it.

A fixed window per token in the ``default`` cache (Redis in production, so the
limit holds across processes and machines). To keep a Redis round trip off
most requests, each process counts locally and adds its count to the shared
one (``INCRBY``) every ``API_THROTTLE_SYNC_BATCH`` requests (default 20, never
more than 1/50 of the limit), and on every request once the shared count is
within a batch of the limit. A process can therefore overshoot the limit by at
most one batch; small limits (under 100 per period) are exact.
Over the limit: 429 with ``Retry-After`` (seconds to the next window). Every
response carries ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and
``X-RateLimit-Reset``. The cache being down never fails a request: the
throttle then lets it through.
"""

from __future__ import annotations

import functools
import math
import re
import threading
import time

import structlog
from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from rest_framework.throttling import BaseThrottle

from enrichment.api.tokens import VerifiedToken

logger = structlog.get_logger(__name__)

_PERIODS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*$")


@functools.lru_cache(maxsize=16)
def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """``"600/min"`` -> ``(600, 60)``; ``None``/``""``/``"off"`` -> ``None``."""
    if rate is None or rate.strip().lower() in ("", "off", "none", "0"):
        return None
    match = _RATE.match(rate.lower())
    if match is None or match.group(3) not in _PERIODS:
        raise ImproperlyConfigured(f"API_THROTTLE_RATE must look like '600/min' or '10/s', got {rate!r}")
    count, multiplier, unit = match.groups()
    period = _PERIODS[unit] * (int(multiplier) if multiplier else 1)
    if int(count) < 1 or period < 1:
        raise ImproperlyConfigured(f"API_THROTTLE_RATE must allow at least one request, got {rate!r}")
    return int(count), period


_LOCAL: dict[str, list[int]] = {}  # window key -> [not yet synced, last shared count]
_LOCAL_LOCK = threading.Lock()


def _batch_size(limit: int) -> int:
    return max(1, min(int(getattr(settings, "API_THROTTLE_SYNC_BATCH", 20)), limit // 50))


class TokenRateThrottle(BaseThrottle):
    cache_alias = "default"

    def __init__(self) -> None:
        self.limit: int | None = None
        self.remaining: int | None = None
        self.reset_in: int | None = None

    def allow_request(self, request, view) -> bool:
        token = getattr(request, "auth", None)
        rate = parse_rate(getattr(settings, "API_THROTTLE_RATE", None))
        if rate is None or not isinstance(token, VerifiedToken):
            return True
        limit, period = rate
        now = time.time()
        window = int(now // period)
        self.limit = limit
        self.reset_in = max(1, math.ceil((window + 1) * period - now))
        key = f"api-throttle:{token.pk}:{period}:{window}"
        batch = _batch_size(limit)
        with _LOCAL_LOCK:
            state = _LOCAL.get(key)
            if state is None:
                if len(_LOCAL) > 10_000:  # old windows
                    _LOCAL.clear()
                state = _LOCAL[key] = [0, 0]
            state[0] += 1
            unsynced, shared = state
            sync = unsynced >= batch or shared + unsynced > limit - batch
            if sync:
                state[0] = 0
        if sync:
            try:
                shared = self._add_shared(key, unsynced, period)
            except Exception as exc:  # noqa: BLE001 - the cache being down must not fail requests
                logger.warning("throttle_cache_unavailable", error=type(exc).__name__)
                self.limit = None
                return True
            with _LOCAL_LOCK:
                state[1] = shared
                count = shared + state[0]
        else:
            count = shared + unsynced
        self.remaining = max(0, limit - count)
        request.rate_limit = self
        return count <= limit

    def _add_shared(self, key: str, amount: int, period: int) -> int:
        cache = caches[self.cache_alias]
        try:
            return cache.incr(key, amount)
        except ValueError:  # first request of the window
            if cache.add(key, amount, timeout=period + 1):
                return amount
            return cache.incr(key, amount)

    def wait(self) -> float | None:
        return self.reset_in

    def headers(self) -> dict[str, str]:
        if self.limit is None:
            return {}
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining if self.remaining is not None else self.limit),
            "X-RateLimit-Reset": str(self.reset_in),
        }


def reset_throttle_state() -> None:
    """Forget this process's local counts (tests, after the shared cache was cleared)."""
    with _LOCAL_LOCK:
        _LOCAL.clear()
