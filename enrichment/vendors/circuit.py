"""A circuit breaker per vendor, shared by every worker process and machine.

State lives in the ``default`` Django cache (django-redis when ``REDIS_URL`` is
set, so all workers see one circuit; in-process otherwise):

- **closed**: calls go through; each failure (timeout, 5xx, bad response,
  auth error; not 404/429/202) adds to a counter that any success resets.
- **open**: after ``EXTERNAL_CIRCUIT_FAILURES`` consecutive failures no call
  is made for ``EXTERNAL_CIRCUIT_COOLDOWN_SECONDS``; tasks store the skip and
  retry after the remaining cool-down.
- **half-open**: once the cool-down has passed exactly one caller (an atomic
  ``add``) is let through as a probe. Its success closes the circuit, its
  failure opens it for another cool-down. A probe that never reports (its
  worker died) expires after one cool-down and another probe goes.

If the cache itself is unreachable the breaker lets calls through (fail open):
the rate limiter and the vendor's own answers still bound the damage.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import structlog
from django.conf import settings
from django.core.cache import caches

from enrichment.vendors.registry import VENDORS

logger = structlog.get_logger(__name__)

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


@dataclass(frozen=True, slots=True)
class CircuitState:
    vendor: str
    state: str  # closed | open | half_open
    failures: int
    opened_at: float | None
    retry_in: float  # seconds until a probe may go (0 when closed or half-open)


class CircuitBreaker:
    def __init__(self, vendor: str, *, failure_threshold: int | None = None, cooldown: float | None = None, cache_alias: str = "default"):
        self.vendor = vendor
        self.failure_threshold = failure_threshold if failure_threshold is not None else settings.EXTERNAL_CIRCUIT_FAILURES
        self.cooldown = cooldown if cooldown is not None else settings.EXTERNAL_CIRCUIT_COOLDOWN_SECONDS
        self.cache = caches[cache_alias]

    def _key(self, name: str) -> str:
        return f"circuit:{self.vendor}:{name}"

    @property
    def _probe_ttl(self) -> int:
        return max(1, round(self.cooldown))

    # -- reads ------------------------------------------------------------------------
    def state(self) -> CircuitState:
        try:
            values = self.cache.get_many([self._key("failures"), self._key("opened_at"), self._key("probe")])
        except Exception:  # noqa: BLE001 - the cache is down: report closed, as allow() behaves
            return CircuitState(self.vendor, CLOSED, 0, None, 0.0)
        failures = int(values.get(self._key("failures")) or 0)
        opened_at = values.get(self._key("opened_at"))
        if opened_at is None:
            return CircuitState(self.vendor, CLOSED, failures, None, 0.0)
        remaining = max(0.0, float(opened_at) + self.cooldown - time.time())
        return CircuitState(self.vendor, OPEN if remaining > 0 else HALF_OPEN, failures, float(opened_at), round(remaining, 3))

    def retry_in(self) -> float:
        return self.state().retry_in

    # -- the gate -----------------------------------------------------------------------
    def allow(self) -> bool:
        """May a call go now? Closed: yes. Open: no. Half-open: only the one
        caller that wins the probe."""
        try:
            opened_at = self.cache.get(self._key("opened_at"))
            if opened_at is None:
                return True
            if time.time() - float(opened_at) < self.cooldown:
                return False
            won = bool(self.cache.add(self._key("probe"), 1, timeout=self._probe_ttl))
        except Exception as exc:  # noqa: BLE001 - fail open
            logger.warning("circuit_cache_unavailable", vendor=self.vendor, error=type(exc).__name__)
            return True
        if won:
            logger.info("circuit_half_open_probe", vendor=self.vendor)
        return won

    def record_success(self) -> None:
        try:
            was_open = self.cache.get(self._key("opened_at")) is not None
            self.cache.delete_many([self._key("failures"), self._key("opened_at"), self._key("probe")])
        except Exception as exc:  # noqa: BLE001
            logger.warning("circuit_cache_unavailable", vendor=self.vendor, error=type(exc).__name__)
            return
        if was_open:
            logger.info("circuit_closed", vendor=self.vendor)

    def record_failure(self) -> None:
        try:
            key = self._key("failures")
            # the counter forgets failures that are far apart
            self.cache.add(key, 0, timeout=max(600, int(self.cooldown * 10)))
            failures = self.cache.incr(key)
            opened_at = self.cache.get(self._key("opened_at"))
            now = time.time()
            if opened_at is not None:
                if now - float(opened_at) >= self.cooldown:  # the half-open probe failed: open again
                    self.cache.set(self._key("opened_at"), now, timeout=None)
                    self.cache.delete(self._key("probe"))
                    logger.warning("circuit_reopened", vendor=self.vendor, failures=failures)
            elif failures >= self.failure_threshold:
                self.cache.set(self._key("opened_at"), now, timeout=None)
                self.cache.delete(self._key("probe"))
                logger.warning("circuit_opened", vendor=self.vendor, failures=failures, cooldown=self.cooldown)
        except Exception as exc:  # noqa: BLE001
            logger.warning("circuit_cache_unavailable", vendor=self.vendor, error=type(exc).__name__)

    def reset(self) -> None:
        self.cache.delete_many([self._key("failures"), self._key("opened_at"), self._key("probe")])


def circuit_states(vendors: list[str] | None = None) -> dict[str, CircuitState]:
    """Every vendor's circuit, for metrics, the admin and health checks."""
    return {vendor: CircuitBreaker(vendor).state() for vendor in (vendors or list(VENDORS))}
