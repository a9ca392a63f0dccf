"""A rate limit per vendor, shared by every worker process and machine.

A fixed window in Redis: one Lua script increments the vendor's counter (the
first increment starts a window of ``window`` seconds by setting its expiry)
and answers allowed / not allowed with the milliseconds left in the window,
atomically, in one round trip. A vendor that answered 429 can be blocked for
its Retry-After with :meth:`RateLimiter.block`, so every worker waits instead of
each one finding out by itself.

Limits (settings): Clearbit 600/min, Crunchbase 200/min, People Data Labs
100/min, NewsAPI ``NEWSAPI_RATE_LIMIT`` per ``NEWSAPI_RATE_WINDOW_SECONDS``.
Without Redis (the embedded default) the same logic runs on the in-process
cache. If Redis is unreachable the limiter lets calls through (fail open).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import structlog
from django.conf import settings
from django.core.cache import caches
from django_redis import get_redis_connection
from django_redis.cache import RedisCache

logger = structlog.get_logger(__name__)

_ACQUIRE = """
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then
  return {0, blocked}
end
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if n == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
if n > tonumber(ARGV[1]) then
  return {0, ttl}
end
return {1, 0}
"""


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after: float  # seconds to wait when not allowed


def vendor_limit(vendor: str) -> tuple[int, int]:
    """(requests, window seconds) for a vendor, from settings."""
    limits = {
        "clearbit": (settings.CLEARBIT_RATE_LIMIT, 60),
        "crunchbase": (settings.CRUNCHBASE_RATE_LIMIT, 60),
        "peopledatalabs": (settings.PEOPLEDATALABS_RATE_LIMIT, 60),
        "newsapi": (settings.NEWSAPI_RATE_LIMIT, settings.NEWSAPI_RATE_WINDOW_SECONDS),
    }
    return limits.get(vendor, (60, 60))


class RateLimiter:
    def __init__(self, vendor: str, *, limit: int | None = None, window: int | None = None, cache_alias: str = "default"):
        default_limit, default_window = vendor_limit(vendor)
        self.vendor = vendor
        self.limit = limit if limit is not None else default_limit
        self.window = window if window is not None else default_window
        self.cache = caches[cache_alias]
        self.cache_alias = cache_alias
        self._count_key = self.cache.make_key(f"ratelimit:{vendor}:count")
        self._block_key = self.cache.make_key(f"ratelimit:{vendor}:blocked")

    def _redis(self):
        if not isinstance(self.cache, RedisCache):
            return None
        return get_redis_connection(self.cache_alias)

    def acquire(self) -> Decision:
        """Take one request from the vendor's budget, if there is one left."""
        try:
            client = self._redis()
            if client is not None:
                allowed, wait_ms = client.eval(_ACQUIRE, 2, self._count_key, self._block_key, self.limit, self.window * 1000)
                return Decision(bool(allowed), round(int(wait_ms) / 1000, 3))
            return self._acquire_cache()
        except Exception as exc:  # noqa: BLE001 - fail open
            logger.warning("ratelimit_unavailable", vendor=self.vendor, error=type(exc).__name__)
            return Decision(True, 0.0)

    def _acquire_cache(self) -> Decision:
        # The in-process cache: keys are made by the cache itself.
        blocked = self.cache.get(f"ratelimit:{self.vendor}:blocked")
        if blocked:
            return Decision(False, float(blocked))
        key = f"ratelimit:{self.vendor}:count"
        self.cache.add(key, 0, timeout=self.window)
        try:
            n = self.cache.incr(key)
        except ValueError:  # expired between add and incr
            self.cache.add(key, 0, timeout=self.window)
            n = self.cache.incr(key)
        return Decision(True, 0.0) if n <= self.limit else Decision(False, float(self.window))

    def block(self, seconds: float) -> None:
        """Hold every worker's calls to this vendor for ``seconds`` (a 429's Retry-After)."""
        if seconds <= 0:
            return
        try:
            client = self._redis()
            if client is not None:
                client.set(self._block_key, 1, px=int(seconds * 1000))
            else:
                self.cache.set(f"ratelimit:{self.vendor}:blocked", seconds, timeout=max(1, math.ceil(seconds)))
        except Exception as exc:  # noqa: BLE001
            logger.warning("ratelimit_unavailable", vendor=self.vendor, error=type(exc).__name__)

    def reset(self) -> None:
        client = self._redis()
        if client is not None:
            client.delete(self._count_key, self._block_key)
        else:
            self.cache.delete_many([f"ratelimit:{self.vendor}:count", f"ratelimit:{self.vendor}:blocked"])
