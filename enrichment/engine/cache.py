"""The two-tier context cache and its freshness policy.

- **L1** (:class:`~enrichment.engine.tiers.L1Cache`): in this process, a bounded
  LRU with a short TTL (``CONTEXT_L1_TTL``, 5 s by default). It holds ready
  :class:`EnrichedContext` objects, so a hit costs a dictionary lookup.
- **L2** (:class:`~enrichment.engine.tiers.L2Cache`): Redis through django-redis
  (the ``context`` cache alias), shared by every process and machine, JSON
  payloads (never pickle) under a key that carries the schema version.

Invalidation deletes the L2 entry and this process's L1 entry; other processes
drop theirs when their L1 TTL runs out, so **a change is seen everywhere within
``CONTEXT_L1_TTL`` seconds**.

:meth:`ContextCache.get` is the one read: it answers with the context and the
sections that must be recomputed before it is served (older than their
provider's TTL, or computed from a data version that has moved on), so callers
never look inside entries.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import structlog
from django.utils import timezone

from enrichment.context.enriched import SCHEMA_VERSION, EnrichedContext
from enrichment.context.lazy import LazyEnrichedContext
from enrichment.engine.tiers import L2Cache
from enrichment.ops.l1 import L1Cache

logger = structlog.get_logger(__name__)


_CONTEXT_PREFIX = f"ctx:v{SCHEMA_VERSION}:"


def context_key(customer_id: str) -> str:
    return _CONTEXT_PREFIX + customer_id  # concatenation: also fast for a CustomerId (a str subclass)


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
        return context.section_versions()
    return {key: src.version for key, src in context.sources.items()}


class CacheLookup(NamedTuple):
    """What the cache holds for one customer (a named tuple: built on every
    read, so it must be cheap).

    ``context`` is ``None`` on a miss. ``stale`` names the sections to recompute
    before serving it (empty: serve as is). ``generation`` is the customer's
    invalidation generation, read before any computation starts (see
    :class:`ContextCache`)."""

    context: EnrichedContext | None
    tier: str | None  # l1 | l2 | None
    stale: frozenset[str]
    generation: str | None

    @property
    def fresh(self) -> bool:
        return self.context is not None and not self.stale


_NOTHING: frozenset[str] = frozenset()
MISS = CacheLookup(None, None, _NOTHING, None)


class ContextCache:
    """L1 then L2, with a generation per customer that makes invalidation win
    over a computation already in flight, and the freshness rules.

    An L2 entry is ``{"gen": <generation>, "context": <to_dict() JSON>}``. The
    generation is read (in the same MGET as the entry) before a context is
    computed and stored with it; invalidation writes a new random generation
    before deleting the entry. A context computed from data read before an
    invalidation is therefore stored under the old generation and never served.

    ``versions`` returns the current data version of each versioned section
    (e.g. the published incidents); a cached section stamped with another
    version is stale.
    """

    def __init__(self, *, l1: L1Cache, l2: L2Cache | None, versions: Callable[[], Mapping[str, str]] | None = None):
        self.l1 = l1
        self.l2 = l2
        self.versions = versions

    # -- reads ------------------------------------------------------------------------
    def get_l1(self, customer_id: str) -> EnrichedContext | None:
        """This process's copy: always fresh (its TTL is the freshness bound)."""
        return self.l1.get(context_key(customer_id))

    def get(self, customer_id: str, *, skip_l1: bool = False) -> CacheLookup:
        """L1 (unless the caller has just looked), else L2 with its freshness;
        never raises."""
        if not skip_l1:
            hit = self.l1.get(context_key(customer_id))
            if hit is not None:
                return CacheLookup(hit, "l1", _NOTHING, None)
        cached, generation = self.get_l2(customer_id)
        return self._lookup(cached, generation)

    def get_many(self, customer_ids: Sequence[str]) -> dict[str, CacheLookup]:
        """:meth:`get` for many customers: L1 first, then one L2 MGET for the rest."""
        found: dict[str, CacheLookup] = {}
        rest = []
        for customer_id in customer_ids:
            hit = self.l1.get(context_key(customer_id))
            if hit is not None:
                found[customer_id] = CacheLookup(hit, "l1", _NOTHING, None)
            else:
                rest.append(customer_id)
        from_l2, generations = self.get_many_l2(rest)
        for customer_id in rest:
            found[customer_id] = self._lookup(from_l2.get(customer_id), generations.get(customer_id))
        return found

    def _lookup(self, cached: EnrichedContext | None, generation: str | None) -> CacheLookup:
        if cached is None:
            return CacheLookup(None, None, _NOTHING, generation)
        stale = expired_sections(cached, timezone.now()) | self._outdated(cached)
        return CacheLookup(cached, "l2", frozenset(stale) if stale else _NOTHING, generation)

    def _outdated(self, cached: EnrichedContext) -> set[str]:
        if self.versions is None:
            return set()
        current = self.versions()
        if not current:
            return set()
        stamped = section_versions(cached)
        return {key for key, version in current.items() if version and stamped.get(key, "") != version}

    def get_l2(self, customer_id: str) -> tuple[EnrichedContext | None, str | None]:
        """The L2 entry if still current, and the customer's generation."""
        if self.l2 is None:
            return None, None
        key, gen_key = context_key(customer_id), generation_key(customer_id)
        values = self.l2.get_many([key, gen_key])
        generation = values.get(gen_key)
        return _current(values.get(key), generation, customer_id), generation

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

    def generations(self, customer_ids: Sequence[str]) -> dict[str, str | None]:
        """The current generations, read before computing (a forced refresh)."""
        if self.l2 is None or not customer_ids:
            return {}
        keys = {generation_key(cid): cid for cid in customer_ids}
        return {keys[key]: value for key, value in self.l2.get_many(list(keys)).items()}

    # -- writes -----------------------------------------------------------------------
    def set_many(self, contexts: Sequence[EnrichedContext], *, generations: Mapping[str, str | None]) -> None:
        """Store freshly computed contexts in both tiers (one L2 write for all).
        L1 keeps them in their cached form, so L1 hits share decoded sections
        and renderings."""
        entries = {c.customer_id: c.to_dict() for c in contexts}
        if self.l2 is not None:
            payload = {context_key(cid): {"gen": generations.get(cid), "context": data} for cid, data in entries.items()}
            if len(payload) == 1:
                ((key, value),) = payload.items()
                self.l2.set(key, value)
            else:
                self.l2.set_many(payload)
        for cid, data in entries.items():
            self.l1.set(context_key(cid), LazyEnrichedContext(data, tier="l1"))

    def set_l1(self, context: EnrichedContext) -> None:
        self.l1.set(context_key(context.customer_id), context)

    def delete_many(self, customer_ids: Sequence[str]) -> None:
        """:meth:`delete` for many customers in one L2 round trip; raises
        :class:`~enrichment.engine.tiers.L2Unavailable` when L2 cannot be
        written (so a consumer of database changes retries rather than
        losing an invalidation)."""
        for customer_id in customer_ids:
            self.l1.delete(context_key(customer_id))
        if self.l2 is None or not customer_ids:
            return
        ttl = max(2 * self.l2.ttl, 3600)
        generations = {generation_key(cid): uuid.uuid4().hex for cid in customer_ids}
        self.l2.replace_many(generations, [context_key(cid) for cid in customer_ids], ttl=ttl)

    def delete(self, customer_id: str) -> None:
        """Invalidate: a new generation (so an in-flight computation cannot
        store its now old result) and the entry dropped, in one L2 round trip
        made even while L2 is marked down; raises
        :class:`~enrichment.engine.tiers.L2Unavailable` when it did not reach L2."""
        self.delete_many([customer_id])


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
