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
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import structlog
from django.utils import timezone

from enrichment.context.codec import json_bytes, json_loads
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
        return context if context.cache_hit and context.cache_tier == tier else context.with_tier(tier)
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

    An L2 entry is the JSON ``{"gen": <generation>, "exp": <epoch seconds>,
    "ver": <versions stamp>, "context": <to_dict() JSON>}``. The generation is
    read before a context is computed, and the entry is written only if the
    customer's generation key still holds it (one Lua call for a whole chunk,
    :meth:`~enrichment.engine.tiers.L2Cache.store_if_current`); invalidation
    writes a new random generation and deletes the entry in one transaction.
    A context computed from data read before an invalidation is therefore
    never stored after it, and a hit is a single ``GET``.

    ``exp`` is when the entry's first section expires (the earliest
    ``fetched_at + ttl``) and ``ver`` the data versions its sections were
    computed from (:func:`versions_stamp`), so a hit is fresh after two
    comparisons; only an entry failing them is examined section by section.

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
        if self.l2 is None:
            return MISS
        lookup = self._from_l2(customer_id, self.l2.get(context_key(customer_id)))
        if lookup.context is None:  # a miss: the generation to store the computed context under
            return CacheLookup(None, None, _NOTHING, self.generations([customer_id]).get(customer_id))
        return lookup

    def get_many(self, customer_ids: Sequence[str]) -> dict[str, CacheLookup]:
        """:meth:`get` for many customers: L1 first, then one L2 MGET for the
        rest (and one for the generations of the misses)."""
        found: dict[str, CacheLookup] = {}
        rest = []
        for customer_id in customer_ids:
            hit = self.l1.get(context_key(customer_id))
            if hit is not None:
                found[customer_id] = CacheLookup(hit, "l1", _NOTHING, None)
            else:
                rest.append(customer_id)
        if self.l2 is None or not rest:
            found.update((cid, MISS) for cid in rest)
            return found
        missed = []
        for customer_id, raw in zip(rest, self.l2.get_many([context_key(cid) for cid in rest]), strict=True):
            lookup = self._from_l2(customer_id, raw)
            found[customer_id] = lookup
            if lookup.context is None:
                missed.append(customer_id)
        generations = self.generations(missed)
        for customer_id in missed:
            found[customer_id] = CacheLookup(None, None, _NOTHING, generations.get(customer_id))
        return found

    def _from_l2(self, customer_id: str, raw: bytes | None) -> CacheLookup:
        """An L2 entry as a lookup: fresh when it expires later and was computed
        from the current data versions, else with its stale sections."""
        if raw is None:
            return MISS
        entry = _entry(raw, customer_id)
        if entry is None:
            return MISS
        context = LazyEnrichedContext(entry["context"], tier="l2")
        generation = entry.get("gen")
        if entry["exp"] > time.time() and entry.get("ver") == self._current_stamp():
            return CacheLookup(context, "l2", _NOTHING, generation)
        try:
            stale = expired_sections(context, timezone.now()) | self._outdated(context)
        except (KeyError, TypeError, ValueError):
            logger.warning("context_cache_entry_unreadable", customer_id=customer_id)
            return MISS
        return CacheLookup(context, "l2", frozenset(stale) if stale else _NOTHING, generation)

    def _current_stamp(self) -> str:
        return versions_stamp(self.versions()) if self.versions is not None else ""

    def _outdated(self, cached: EnrichedContext) -> set[str]:
        if self.versions is None:
            return set()
        current = self.versions()
        if not current:
            return set()
        stamped = section_versions(cached)
        return {key for key, version in current.items() if version and stamped.get(key, "") != version}

    def get_l2(self, customer_id: str) -> tuple[EnrichedContext | None, str | None]:
        """The L2 entry (fresh or not) and the customer's generation."""
        lookup = self.get(customer_id, skip_l1=True)
        return lookup.context, lookup.generation

    def generations(self, customer_ids: Sequence[str]) -> dict[str, str | None]:
        """The current generations, read before computing (a forced refresh, a miss)."""
        if self.l2 is None or not customer_ids:
            return {}
        raws = self.l2.get_many([generation_key(cid) for cid in customer_ids])
        return {cid: _generation(raw) for cid, raw in zip(customer_ids, raws, strict=True)}

    # -- writes -----------------------------------------------------------------------
    def set_many(self, contexts: Sequence[EnrichedContext], *, generations: Mapping[str, str | None]) -> None:
        """Store freshly computed contexts in both tiers (one L2 round trip for
        all, each entry only if its generation is still the one read before
        computing it). L1 keeps them as their JSON bytes, parsed only if read,
        so L1 hits share decoded sections and renderings."""
        store = self.l2 is not None and self.l2.available
        stamp_keys = tuple(self.versions()) if store and self.versions is not None else ()
        entries = []
        shared: dict[int, tuple[Any, Any]] = {}  # the chunk's SourceInfo objects, each written once
        expiries: dict[int, float] = {}  # and their expiry, each computed once (by id: the contexts keep them alive)
        for context in contexts:
            customer_id = context.customer_id
            key = context_key(customer_id)
            body = context.to_json(shared=shared)
            if store:
                generation = generations.get(customer_id)
                head = json_bytes({"gen": generation, "exp": _expiry(context, expiries), "ver": _context_stamp(context, stamp_keys)})
                expected = b"" if generation is None else json_bytes(generation)
                entries.append((key, generation_key(customer_id), expected, head[:-1] + b',"context":' + body + b"}"))
            self.l1.set(key, LazyEnrichedContext(raw=body, tier="l1"))
        if entries:
            assert self.l2 is not None
            self.l2.store_if_current(entries)

    def set_l1(self, context: EnrichedContext) -> None:
        """Keep an L2 hit in this process, as served from L1."""
        if self.l1.max_entries > 0:
            self.l1.set(context_key(context.customer_id), mark_hit(context, "l1"))

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
        generations = {generation_key(cid): json_bytes(uuid.uuid4().hex) for cid in customer_ids}
        self.l2.replace(generations, [context_key(cid) for cid in customer_ids], ttl=ttl)

    def delete(self, customer_id: str) -> None:
        """Invalidate: a new generation (so an in-flight computation cannot
        store its now old result) and the entry dropped, in one L2 round trip
        made even while L2 is marked down; raises
        :class:`~enrichment.engine.tiers.L2Unavailable` when it did not reach L2."""
        self.delete_many([customer_id])


def versions_stamp(versions: Mapping[str, str]) -> str:
    """The data versions of the versioned sections as one string: an entry
    whose stamp equals the current one has no outdated section."""
    return ";".join(f"{key}={version}" for key, version in versions.items())


def _context_stamp(context: EnrichedContext, keys: Sequence[str]) -> str:
    sources = context.sources
    return versions_stamp({key: sources[key].version if key in sources else "" for key in keys})


_NEVER = 4_102_444_800.0  # 2100-01-01: an entry without sections has nothing to expire


def _expiry(context: EnrichedContext, expiries: dict[int, float]) -> float:
    """When the context's first section expires (epoch seconds); ``expiries``
    memoises each source's by identity (a chunk's contexts share most of them)."""
    soonest = _NEVER
    for source in context.sources.values():
        expiry = expiries.get(id(source))
        if expiry is None:
            expiry = expiries[id(source)] = source.fetched_at.timestamp() + source.ttl
        soonest = min(soonest, expiry)
    return soonest


def _generation(raw: bytes | None) -> str | None:
    if raw is None:
        return None
    try:
        value = json_loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, str) else None


def _entry(raw: bytes, customer_id: str) -> dict[str, Any] | None:
    """A cached entry if it is one for this customer and schema (else, e.g.
    an entry of an older layout or garbage, a miss rather than an error)."""
    try:
        entry = json_loads(raw)
        context = entry["context"]
        if (
            type(entry["exp"]) not in (int, float)
            or context["schema_version"] != SCHEMA_VERSION
            or context["customer_intelligence"]["customer_id"] != customer_id
        ):
            raise ValueError("entry for another customer or schema")
    except (KeyError, TypeError, ValueError):
        logger.warning("context_cache_entry_unreadable", customer_id=customer_id)
        return None
    return entry
