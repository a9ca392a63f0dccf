"""The two storage tiers under the context cache.

- :class:`~enrichment.ops.l1.L1Cache`: in this process, a bounded LRU with
  per-entry expiry (kept in ``ops`` so lower rooms can use the same kind of
  memo; ``reset_l1`` empties them all).
- :class:`L2Cache`: a Django cache (django-redis in production) shared by every
  process. Redis failing or slow never raises: the call is treated as a miss,
  the outage is logged once (and its end once), and L2 is skipped for
  ``L2_RETRY_AFTER`` seconds so requests do not each pay the socket timeout.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import structlog
from django.core.cache.backends.base import BaseCache

logger = structlog.get_logger(__name__)

L2_RETRY_AFTER = 2.0


class L2Unavailable(Exception):
    """The shared cache could not be written."""


class L2Cache:
    """A django cache used as L2, with outage handling."""

    def __init__(self, backend: BaseCache, *, ttl: int):
        self.backend = backend
        self.ttl = ttl
        self._down_until = 0.0
        self._down = False

    @property
    def available(self) -> bool:
        return not self._down or time.monotonic() >= self._down_until

    def _failed(self, operation: str, exc: Exception) -> None:
        if not self._down:
            logger.warning("context_cache_l2_unavailable", operation=operation, error=type(exc).__name__)
        self._down = True
        self._down_until = time.monotonic() + L2_RETRY_AFTER

    def _succeeded(self) -> None:
        if self._down:
            logger.info("context_cache_l2_recovered")
            self._down = False

    def get(self, key: str) -> dict | None:
        if not self.available:
            return None
        try:
            value = self.backend.get(key)
        except Exception as exc:  # noqa: BLE001 - any cache failure is a miss
            self._failed("get", exc)
            return None
        self._succeeded()
        return value

    def set(self, key: str, value: Any, ttl: int | None = None, *, force: bool = False) -> None:
        if not (self.available or force):
            return
        try:
            self.backend.set(key, value, timeout=self.ttl if ttl is None else ttl)
        except Exception as exc:  # noqa: BLE001
            self._failed("set", exc)
            return
        self._succeeded()

    def get_many(self, keys: Sequence[str]) -> dict[str, dict]:
        if not keys or not self.available:
            return {}
        try:
            values = self.backend.get_many(keys)
        except Exception as exc:  # noqa: BLE001
            self._failed("get_many", exc)
            return {}
        self._succeeded()
        return values

    def set_many(self, values: dict[str, dict], ttl: int | None = None) -> None:
        if not values or not self.available:
            return
        try:
            self.backend.set_many(values, timeout=self.ttl if ttl is None else ttl)
        except Exception as exc:  # noqa: BLE001
            self._failed("set_many", exc)
            return
        self._succeeded()

    def replace_many(self, values: dict[str, Any], delete: Sequence[str], *, ttl: int) -> None:
        """Write ``values`` and delete ``delete``, even while marked down;
        raises :class:`L2Unavailable` when the cache cannot be reached (the
        caller keeps the work and retries)."""
        try:
            if values:
                self.backend.set_many(values, timeout=ttl)
            if delete:
                self.backend.delete_many(list(delete))
        except Exception as exc:
            self._failed("replace_many", exc)
            raise L2Unavailable(str(exc)) from exc
        self._succeeded()

    def delete(self, key: str) -> bool:
        """Delete even while marked down (an invalidation must be attempted)."""
        try:
            self.backend.delete(key)
        except Exception as exc:  # noqa: BLE001
            self._failed("delete", exc)
            return False
        self._succeeded()
        return True
