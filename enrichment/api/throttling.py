"""Per-token rate limiting.

``API_THROTTLE_RATE`` (env, default ``600/min``) is ``N/period`` with the
period ``s``/``sec``/``second``, ``m``/``min``/``minute``, ``h``/``hour`` or
``d``/``day``, optionally with a count (``100/10s``); ``off`` disables it.

A fixed window per token in the ``default`` cache (Redis in production, so the
limit holds across processes and machines): one atomic ``INCR`` per request.
Over the limit: 429 with ``Retry-After`` (seconds to the next window). Every
response carries ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and
``X-RateLimit-Reset``. The cache being down never fails a request: the
throttle then lets it through.
"""

from __future__ import annotations

import functools
import math
import re
import time

import structlog
from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from rest_framework.throttling import BaseThrottle

from enrichment.tokens import VerifiedToken

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
        cache = caches[self.cache_alias]
        try:
            try:
                count = cache.incr(key)
            except ValueError:  # first request of the window
                count = 1 if cache.add(key, 1, timeout=period + 1) else cache.incr(key)
        except Exception as exc:  # noqa: BLE001 - the cache being down must not fail requests
            logger.warning("throttle_cache_unavailable", error=type(exc).__name__)
            self.limit = None
            return True
        self.remaining = max(0, limit - count)
        request.rate_limit = self
        return count <= limit

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
