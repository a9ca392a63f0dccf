"""Per-process caches: a thread-safe LRU with per-entry expiry, and one switch
that empties every such cache of the process.

The context service's L1 tier is one (:mod:`enrichment.engine.cache`), the
product status memo another (:mod:`enrichment.realtime.product_status`). They
live here, below both, so that a lower room can keep a memo without importing
the engine; :func:`reset_l1` empties them all (tests: "another process").
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from typing import Any


class L1Cache:
    """A thread-safe LRU with per-entry expiry."""

    def __init__(self, *, max_entries: int, ttl: float):
        self.max_entries = max_entries
        self.ttl = ttl
        self._data: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Any | None:
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            expires, value = item
            if expires < time.monotonic():
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return value

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        if self.max_entries <= 0:
            return
        expires = time.monotonic() + (self.ttl if ttl is None else ttl)
        with self._lock:
            self._data[key] = (expires, value)
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


_L1_INSTANCES: weakref.WeakSet[L1Cache] = weakref.WeakSet()


def make_l1(*, max_entries: int, ttl: float) -> L1Cache:
    """A new L1 cache, emptied with the others by :func:`reset_l1`."""
    cache = L1Cache(max_entries=max_entries, ttl=ttl)
    _L1_INSTANCES.add(cache)
    return cache


def reset_l1() -> None:
    """Empty every L1 cache of this process."""
    for cache in list(_L1_INSTANCES):
        cache.clear()
