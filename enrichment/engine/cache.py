"""Two-tier context cache.

- **L1**: in this process, a bounded LRU with a short TTL (``CONTEXT_L1_TTL``,
  5 s by default). It holds ready :class:`EnrichedContext` objects, so a hit
  costs a dictionary lookup.
- **L2**: Redis through django-redis (the ``context`` cache alias), shared by
  every process and machine, JSON payloads (never pickle) under a key that
  carries the schema version.

Invalidation deletes the L2 entry and this process's L1 entry; other processes
drop theirs when their L1 TTL runs out, so **a change is seen everywhere within
``CONTEXT_L1_TTL`` seconds**.

Redis failing or slow never raises: the call is treated as a miss, the outage is
logged once (and its end once), and L2 is skipped for ``L2_RETRY_AFTER`` seconds
so requests do not each pay the socket timeout while it is down.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import structlog
from django.core.cache.backends.base import BaseCache

from enrichment.context.enriched import SCHEMA_VERSION, EnrichedContext
from enrichment.context.lazy import LazyEnrichedContext

logger = structlog.get_logger(__name__)

L2_RETRY_AFTER = 2.0


def context_key(customer_id: str) -> str:
    return f"ctx:v{SCHEMA_VERSION}:{customer_id}"


def generation_key(customer_id: str) -> str:
    return f"ctxgen:{customer_id}"


def mark_hit(context: EnrichedContext, tier: str) -> EnrichedContext:
    """The context as served from a cache tier (``l1`` or ``l2``)."""
    if isinstance(context, LazyEnrichedContext):
        return context.with_tier(tier)
    return dataclasses.replace(
        context,
        cache_hit=True,
        sources={key: dataclasses.replace(src, tier=tier) for key, src in context.sources.items()},
    )


def with_latency(context: EnrichedContext, latency_ms: float) -> EnrichedContext:
    if isinstance(context, LazyEnrichedContext):
        return context.with_latency(latency_ms)
    return dataclasses.replace(context, enrichment_latency_ms=latency_ms)


def expired_sections(context: EnrichedContext, now: dt.datetime) -> set[str]:
    """Sections older than their provider's TTL (per-provider TTLs inside one entry)."""
    if isinstance(context, LazyEnrichedContext):
        ages = context.fetched_at().items()
    else:
        ages = ((key, (src.fetched_at, src.ttl)) for key, src in context.sources.items())
    return {key for key, (fetched_at, ttl) in ages if fetched_at + dt.timedelta(seconds=ttl) <= now}


def section_versions(context: EnrichedContext) -> dict[str, str]:
    """Each section's data version as stamped when it was computed (``""``: none)."""
    if isinstance(context, LazyEnrichedContext):
        return {key: src.get("version", "") for key, src in (context.__dict__["_data"].get("sources") or {}).items()}
    return {key: src.version for key, src in context.sources.items()}


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

    def delete(self, key: str) -> bool:
        """Delete even while marked down (an invalidation must be attempted)."""
        try:
            self.backend.delete(key)
        except Exception as exc:  # noqa: BLE001
            self._failed("delete", exc)
            return False
        self._succeeded()
        return True


class ContextCache:
    """L1 then L2, with a generation per customer that makes invalidation win
    over a computation already in flight.

    An L2 entry is ``{"gen": <generation>, "context": <to_dict() JSON>}``. The
    generation is read (in the same MGET as the entry) before a context is
    computed and stored with it; invalidation writes a new random generation
    before deleting the entry. A context computed from data read before an
    invalidation is therefore stored under the old generation and never served.
    """

    def __init__(self, *, l1: L1Cache, l2: L2Cache | None):
        self.l1 = l1
        self.l2 = l2

    def get_l1(self, customer_id: str) -> EnrichedContext | None:
        return self.l1.get(context_key(customer_id))

    def get_l2(self, customer_id: str) -> tuple[EnrichedContext | None, str | None]:
        """The L2 entry if still current, and the customer's generation."""
        if self.l2 is None:
            return None, None
        key, gen_key = context_key(customer_id), generation_key(customer_id)
        values = self.l2.get_many([key, gen_key])
        generation = values.get(gen_key)
        return _current(values.get(key), generation, customer_id), generation

    def generation(self, customer_id: str) -> str | None:
        return None if self.l2 is None else self.l2.get(generation_key(customer_id))

    def generations(self, customer_ids: Sequence[str]) -> dict[str, str | None]:
        if self.l2 is None or not customer_ids:
            return {}
        keys = {generation_key(cid): cid for cid in customer_ids}
        return {keys[key]: value for key, value in self.l2.get_many(list(keys)).items()}

    def set(self, context: EnrichedContext, *, generation: str | None) -> None:
        """Store a freshly computed context in both tiers. L1 keeps it in its
        cached form, so L1 hits share decoded sections and renderings."""
        key = context_key(context.customer_id)
        data = context.to_dict()
        if self.l2 is not None:
            self.l2.set(key, {"gen": generation, "context": data})
        self.l1.set(key, LazyEnrichedContext(data, tier="l1"))

    def get_many_l2(self, customer_ids: Sequence[str]) -> tuple[dict[str, EnrichedContext], dict[str, str | None]]:
        if self.l2 is None or not customer_ids:
            return {}, {}
        keys = {context_key(cid): cid for cid in customer_ids}
        gen_keys = {generation_key(cid): cid for cid in customer_ids}
        values = self.l2.get_many([*keys, *gen_keys])
        generations = {cid: values.get(gen_key) for gen_key, cid in gen_keys.items()}
        found: dict[str, EnrichedContext] = {}
        for key, cid in keys.items():
            context = _current(values.get(key), generations[cid], cid)
            if context is not None:
                found[cid] = context
        return found, generations

    def set_many(self, contexts: Sequence[EnrichedContext], *, generations: dict[str, str | None]) -> None:
        entries = {c.customer_id: c.to_dict() for c in contexts}
        if self.l2 is not None:
            self.l2.set_many(
                {context_key(cid): {"gen": generations.get(cid), "context": data} for cid, data in entries.items()}
            )
        for cid, data in entries.items():
            self.l1.set(context_key(cid), LazyEnrichedContext(data, tier="l1"))

    def set_l1(self, context: EnrichedContext) -> None:
        self.l1.set(context_key(context.customer_id), context)

    def delete(self, customer_id: str) -> None:
        """Invalidate: a new generation first (so an in-flight computation
        cannot store its now old result), then drop the entry."""
        key = context_key(customer_id)
        self.l1.delete(key)
        if self.l2 is not None:
            self.l2.set(generation_key(customer_id), uuid.uuid4().hex, ttl=max(2 * self.l2.ttl, 3600), force=True)
            self.l2.delete(key)


def _current(entry: Any, generation: str | None, customer_id: str) -> LazyEnrichedContext | None:
    if not isinstance(entry, dict) or entry.get("gen") != generation:
        return None
    return _lazy(entry.get("context"), customer_id)


def _lazy(data: Any, customer_id: str) -> LazyEnrichedContext | None:
    """Wrap a cached payload; a malformed entry is a miss, not an error."""
    try:
        context = LazyEnrichedContext(data, tier="l2")
        if context.customer_id != customer_id or data.get("schema_version") != SCHEMA_VERSION:
            raise ValueError("entry for another customer or schema")
        context.fetched_at()
    except Exception:  # noqa: BLE001
        logger.warning("context_cache_entry_unreadable", customer_id=customer_id)
        return None
    return context


_L1_INSTANCES: weakref.WeakSet[L1Cache] = weakref.WeakSet()


def make_l1(*, max_entries: int, ttl: float) -> L1Cache:
    cache = L1Cache(max_entries=max_entries, ttl=ttl)
    _L1_INSTANCES.add(cache)
    return cache


def reset_l1() -> None:
    """Empty every L1 of this process (used by tests and by ``context_invalidate_all``)."""
    for cache in list(_L1_INSTANCES):
        cache.clear()
