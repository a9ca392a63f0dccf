"""The context service: the one entry point every caller uses.

The API (single and batch), the admin, the CLI, the agents' client and the
Celery refreshes all call :class:`ContextEnrichmentService`. Whatever the
number of customers, a request goes the same way:

1. ids validated once (:mod:`enrichment.engine.lookups`);
2. the cache answers what it can (:meth:`ContextCache.get_many`: L1, then one
   L2 MGET, with the sections each entry needs recomputed);
3. the rest is computed together by the :class:`ProviderRunner` (a single
   context is a chunk of one), with one reconnect-and-retry when the database
   connection was dropped;
4. the new contexts go to both cache tiers and their health to the history.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any

import structlog
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import caches
from django.core.signals import setting_changed
from django.db import DatabaseError, connection
from django_redis.cache import RedisCache

from config.db import cannot_connect, connection_discard
from config.replicas import replica_blame
from customers.selectors import CustomerRef, customer_refs_chunks, customer_refs_get
from enrichment.context.enriched import EnrichedContext
from enrichment.context.exceptions import ContextEnrichmentError, ContextUnavailable, CustomerNotFound, InvalidLookup
from enrichment.engine.cache import MISS, CacheLookup, ContextCache, context_key, mark_hit, with_latency
from enrichment.engine.chunks import collector_paused, refresh_running, refreshing
from enrichment.engine.lookups import CustomerId, customer_id_resolve, validate_customer_id
from enrichment.engine.refs import KnownRefs
from enrichment.engine.runner import ProviderRunner, RefOutdated
from enrichment.engine.tiers import L2Cache, L2Unavailable
from enrichment.history.writer import health_record_many
from enrichment.ops import metrics
from enrichment.ops.l1 import make_l1
from enrichment.providers.base import INTERNAL_SOURCES, ContextProvider
from enrichment.providers.registry import load_providers

logger = structlog.get_logger(__name__)

BatchResult = dict[str, "EnrichedContext | ContextEnrichmentError"]
_PENDING: Any = object()
CHUNK_SIZE = 500


class ContextEnrichmentService:
    """Builds, caches and invalidates customer contexts.

    The constructor keeps the seed's arguments. ``redis_url=None`` means no
    shared tier (L1 only); the settings' ``REDIS_URL`` reuses the ``context``
    django-redis cache; any other URL gets its own django-redis client.
    """

    def __init__(
        self,
        *,
        enable_external_apis: bool = False,
        enable_caching: bool = True,
        redis_url: str | None = None,
        cache_ttl: int = 300,
        providers: Sequence[ContextProvider] | None = None,
        deadline_ms: int | None = None,
        l1_ttl: float | None = None,
        l1_max_entries: int | None = None,
        record_health: bool = True,
    ):
        self.record_health = record_health
        self.enable_external_apis = enable_external_apis
        self.enable_caching = enable_caching
        self.cache_ttl = cache_ttl
        deadline = (deadline_ms if deadline_ms is not None else settings.ENRICHMENT_DEADLINE_MS) / 1000
        all_providers = list(providers) if providers is not None else load_providers()
        self.providers = [p for p in all_providers if enable_external_apis or p.source in INTERNAL_SOURCES]
        self.runner = ProviderRunner(self.providers, deadline=deadline)
        self.known_refs = KnownRefs()
        self.cache: ContextCache | None = None
        if enable_caching:
            l1 = make_l1(
                max_entries=l1_max_entries if l1_max_entries is not None else settings.CONTEXT_L1_MAX_ENTRIES,
                ttl=min(l1_ttl if l1_ttl is not None else settings.CONTEXT_L1_TTL, cache_ttl),
            )
            backend = _l2_backend(redis_url)
            self.cache = ContextCache(
                l1=l1,
                l2=L2Cache(backend, ttl=cache_ttl) if backend is not None else None,
                versions=self.runner.data_versions if self.runner.versioned else None,
            )

    # -- lookups ----------------------------------------------------------------------
    @staticmethod
    def validate(customer_id: Any) -> CustomerId:
        return validate_customer_id(customer_id)

    def resolve_customer_id(self, *, email: str | None = None, domain: str | None = None) -> CustomerId:
        """The external id of the customer a contact email or a domain belongs to."""
        return customer_id_resolve(email=email, domain=domain)

    # -- the seed's API ------------------------------------------------------------------
    def enrich_context(self, customer_id: str, force_refresh: bool = False) -> EnrichedContext:
        """One customer's context: a batch of one that raises its error."""
        started = time.perf_counter()
        customer_id = validate_customer_id(customer_id)
        if self.cache is not None and not force_refresh:
            hit = self.cache.l1.get(context_key(customer_id))  # the hot path: ~2 µs, kept inline
            if hit is not None:
                counts = metrics.TIER_COUNTS  # a plain int per process
                counts[0] += 1
                if not counts[0] % metrics.L1_SAMPLE:
                    metrics.CONTEXT_SECONDS.labels("l1").observe(time.perf_counter() - started)
                return with_latency(hit, round((time.perf_counter() - started) * 1000, 3))
            lookup = self.cache.get(customer_id, skip_l1=True)  # what _enrich does, without its lists
            if lookup.fresh:
                return self._serve_hit(lookup, started)
            result = self._compute([customer_id], {customer_id: lookup}, started)[customer_id]
        else:
            result = self._enrich([customer_id], force_refresh=force_refresh, started=started)[customer_id]
        if isinstance(result, ContextEnrichmentError):
            raise result
        return result

    def enrich_many(self, customer_ids: Iterable[Any], *, force_refresh: bool = False) -> BatchResult:
        """Contexts for many customers. Each id maps to its context or to the
        error for that id (invalid, not found); one bad id never fails the
        batch. A database outage, which fails every id alike, raises
        :class:`ContextUnavailable` (unless every one of them is cached)."""
        started = time.perf_counter()
        results: BatchResult = {}
        wanted: list[CustomerId] = []
        for raw in customer_ids:
            try:
                customer_id = validate_customer_id(raw)
            except InvalidLookup as exc:
                results.setdefault(str(raw), exc)
                continue
            if customer_id not in results:
                results[customer_id] = _PENDING  # replaced below; keeps the request order
                wanted.append(customer_id)
        results.update(self._enrich(wanted, force_refresh=force_refresh, started=started))
        return results

    def get_context_summary(self, customer_id: str) -> dict[str, Any]:
        return self.enrich_context(customer_id).get_summary()

    def invalidate_cache(self, customer_id: str) -> bool:
        """Drop the customer's cached context from both tiers. Returns False
        when the shared tier (L2) could not be reached: the entry may still be
        there, and the caller must not report the invalidation as done
        (:func:`enrichment.engine.services.context_invalidate` records it)."""
        customer_id = validate_customer_id(customer_id)
        if self.cache is not None:
            try:
                self.cache.delete(customer_id)
            except L2Unavailable:
                logger.warning("context_invalidation_not_reached", customer_id=customer_id)
                return False
        logger.info("context_invalidated", customer_id=customer_id)
        return True

    def invalidate_many(self, customer_ids: Sequence[str]) -> None:
        """Invalidate many customers at once; raises
        :class:`~enrichment.engine.tiers.L2Unavailable` when the shared cache
        cannot be written."""
        if self.cache is not None:
            self.cache.delete_many(customer_ids)

    async def aenrich_context(self, customer_id: str, force_refresh: bool = False) -> EnrichedContext:
        return await sync_to_async(self.enrich_context, thread_sensitive=True)(customer_id, force_refresh)

    async def ainvalidate_cache(self, customer_id: str) -> bool:
        return await sync_to_async(self.invalidate_cache, thread_sensitive=True)(customer_id)

    async def aget_context_summary(self, customer_id: str) -> dict[str, Any]:
        return (await self.aenrich_context(customer_id)).get_summary()

    async def aresolve_customer_id(self, *, email: str | None = None, domain: str | None = None) -> str:
        return await sync_to_async(self.resolve_customer_id, thread_sensitive=True)(email=email, domain=domain)

    # -- refreshes ----------------------------------------------------------------------
    def refresh_many(self, customer_ids: Sequence[str], *, chunk_size: int = CHUNK_SIZE) -> int:
        """Recompute and cache the given customers' contexts; returns how many
        were refreshed (unknown or malformed ids are skipped)."""
        ids = list(dict.fromkeys(customer_ids))
        done = 0
        with refreshing() as chunk_done:
            for start in range(0, len(ids), chunk_size):
                results = self.enrich_many(ids[start : start + chunk_size], force_refresh=True)
                done += sum(1 for value in results.values() if isinstance(value, EnrichedContext))
                del results
                chunk_done()
        return done

    def refresh_all(self, *, chunk_size: int = CHUNK_SIZE) -> int:
        """Recompute and cache every customer's context, a chunk at a time."""
        done = 0
        with refreshing() as chunk_done:
            for refs in customer_refs_chunks(chunk_size=chunk_size):
                lookups = self._forced([ref.external_id for ref in refs])
                done += len(self._compute_and_store(refs, lookups=lookups, started=time.perf_counter(), strict=False))
                chunk_done()
        return done

    # -- the one path ---------------------------------------------------------------------
    def _enrich(self, customer_ids: Sequence[CustomerId], *, force_refresh: bool, started: float) -> BatchResult:
        if not customer_ids:
            return {}
        if self.cache is None:
            lookups: dict[str, CacheLookup] = {}
        elif force_refresh:
            lookups = self._forced(customer_ids)
        else:
            lookups = self.cache.get_many(customer_ids)
        results: BatchResult = {}
        misses: list[str] = []
        for customer_id in customer_ids:
            lookup = lookups.get(customer_id, MISS)
            if lookup.fresh:
                results[customer_id] = self._serve_hit(lookup, started)
            else:
                misses.append(customer_id)
        if misses:
            results.update(self._compute(misses, lookups, started))
        return results

    def _forced(self, customer_ids: Sequence[str]) -> dict[str, CacheLookup]:
        """A forced refresh reads nothing but the generations (before computing:
        an invalidation during the computation wins)."""
        if self.cache is None:
            return {}
        generations = self.cache.generations(customer_ids)
        return {cid: CacheLookup(None, None, MISS.stale, generations.get(cid)) for cid in customer_ids}

    @staticmethod
    def _serve_l1(context: EnrichedContext, started: float) -> EnrichedContext:
        counts = metrics.TIER_COUNTS  # a plain int per process: the L1 path stays ~2 µs
        counts[0] += 1
        if not counts[0] % metrics.L1_SAMPLE:
            metrics.CONTEXT_SECONDS.labels("l1").observe(time.perf_counter() - started)
        return with_latency(context, _ms(started))

    def _serve_hit(self, lookup: CacheLookup, started: float) -> EnrichedContext:
        context = lookup.context
        assert context is not None  # a fresh lookup has a context
        if lookup.tier == "l1":
            return self._serve_l1(context, started)
        if self.cache is not None:
            self.cache.set_l1(context)
        metrics.observe_context(metrics.L2, time.perf_counter() - started)
        return with_latency(mark_hit(context, "l2"), _ms(started))

    def _compute(self, customer_ids: list[str], lookups: dict[str, CacheLookup], started: float) -> BatchResult:
        """Compute what the cache could not serve; on a dropped database
        connection reconnect once and retry, then fall back to what is cached."""
        try:
            return self._compute_once(customer_ids, lookups, started, strict=_reconnectable())
        except (DatabaseError, ContextUnavailable) as exc:
            if replica_blame() or (_reconnectable() and not cannot_connect(exc)):
                # A dropped connection (database restart, pg_terminate_backend, a
                # failover): reconnect once and try again before giving up.
                logger.warning("context_database_retry", customers=len(customer_ids), error=type(exc).__name__)
                connection_discard()
                try:
                    return self._compute_once(customer_ids, lookups, started, strict=False)
                except (DatabaseError, ContextUnavailable) as again:
                    exc = again
            return self._serve_stale(customer_ids, lookups, exc, started)

    def _compute_once(self, customer_ids: list[str], lookups: dict[str, CacheLookup], started: float, *, strict: bool) -> BatchResult:
        known = self.known_refs.get(customer_ids[0]) if len(customer_ids) == 1 and self.runner.pipeline else None
        if known is not None and lookups.get(known.external_id, MISS).context is None:
            try:  # the lookup rides in the statements' round trip (enrichment/engine/refs.py)
                (context,) = self._compute_and_store([known], lookups=lookups, started=started, strict=strict, verify=True)
                return {known.external_id: context}
            except RefOutdated:
                self.known_refs.forget(known.external_id)
        refs = customer_refs_get(external_ids=[str(cid) for cid in customer_ids])  # plain str for the driver
        if len(customer_ids) == 1:
            self.known_refs.remember(refs.values())
        results: BatchResult = {cid: CustomerNotFound(f"customer_id {cid!r}") for cid in customer_ids if cid not in refs}
        whole = [refs[cid] for cid in customer_ids if cid in refs and lookups.get(cid, MISS).context is None]
        for context in self._compute_and_store(whole, lookups=lookups, started=started, strict=strict):
            results[context.customer_id] = context
        for cid in customer_ids:  # cached but with stale sections: only those are recomputed
            if cid in refs and lookups.get(cid, MISS).context is not None:
                (results[cid],) = self._compute_and_store([refs[cid]], lookups=lookups, started=started, strict=strict, partial=True)
        return results

    def _serve_stale(self, customer_ids: list[str], lookups: dict[str, CacheLookup], exc: Exception, started: float) -> BatchResult:
        """The database is gone: serve the cached contexts held, else 503."""
        held = {cid: lookups[cid].context for cid in customer_ids if cid in lookups and lookups[cid].context is not None}
        if len(held) < len(customer_ids):
            raise _unavailable(customer_ids, exc) from exc
        return {cid: with_latency(mark_hit(context, "l2"), _ms(started)) for cid, context in held.items()}

    def _compute_and_store(
        self,
        refs: Sequence[CustomerRef],
        *,
        lookups: dict[str, CacheLookup],
        started: float,
        strict: bool,
        partial: bool = False,
        verify: bool = False,
    ) -> list[EnrichedContext]:
        """Compute ``refs`` (with ``partial``: only the stale sections of the
        one cached context), record their health and store them in both tiers."""
        if not refs:
            return []
        kwargs: dict[str, Any] = {"verify": verify}
        if partial:
            lookup = lookups[refs[0].external_id]
            kwargs = {"previous": {refs[0].pk: lookup.context}, "only": lookup.stale}
        with collector_paused(len(refs) > 1):
            contexts, timings = self.runner.run(refs, started=started, strict=strict, **kwargs)
            if self.record_health:
                rows = [(ref.pk, ctx) for ref, ctx in zip(refs, contexts, strict=True)]
                health_record_many(rows=rows, overlap=refresh_running())
            if self.cache is not None:
                self.cache.set_many(contexts, generations={cid: lookup.generation for cid, lookup in lookups.items()})
        metrics.observe_contexts(metrics.PARTIAL if partial else metrics.COMPUTED, [c.enrichment_latency_ms / 1000 for c in contexts])
        logger.info(
            "context_enriched" if len(refs) == 1 else "contexts_refreshed",
            customer_id=refs[0].external_id if len(refs) == 1 else None,
            count=len(refs),
            tier="partial" if partial else "computed",
            latency_ms=_ms(started),
            providers=timings,
            degraded=sorted({d.section for c in contexts for d in c.degraded}) or None,
        )
        return contexts


def _reconnectable() -> bool:
    """Reconnecting is only safe outside a transaction."""
    return not connection.in_atomic_block


def _unavailable(customer_ids: Sequence[str], exc: Exception) -> ContextUnavailable:
    logger.error("context_database_unavailable", customer_ids=list(customer_ids)[:20], error=type(exc).__name__)
    return exc if isinstance(exc, ContextUnavailable) else ContextUnavailable("the customer database is unreachable")


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def _l2_backend(redis_url: str | None):
    if not redis_url:
        return None
    if redis_url == settings.REDIS_URL:
        return caches[settings.CONTEXT_CACHE_ALIAS]
    options = dict(settings.CACHES.get(settings.CONTEXT_CACHE_ALIAS, {}).get("OPTIONS", {}))
    options.setdefault("SERIALIZER", "django_redis.serializers.json.JSONSerializer")
    options.setdefault("SOCKET_CONNECT_TIMEOUT", settings.REDIS_SOCKET_TIMEOUT)
    options.setdefault("SOCKET_TIMEOUT", settings.REDIS_SOCKET_TIMEOUT)
    options.pop("CLIENT_CLASS", None)
    return RedisCache(redis_url, {"OPTIONS": options, "KEY_PREFIX": "cce"})


# -- the shared service -----------------------------------------------------------------
_SERVICE: ContextEnrichmentService | None = None
_SERVICE_LOCK = threading.Lock()


def get_context_service() -> ContextEnrichmentService:
    """The process-wide service, built from settings on first use."""
    global _SERVICE
    service = _SERVICE
    if service is None:
        with _SERVICE_LOCK:
            if _SERVICE is None:
                _SERVICE = ContextEnrichmentService(
                    enable_external_apis=settings.ENABLE_EXTERNAL_APIS,
                    enable_caching=settings.CONTEXT_CACHE_ENABLED,
                    redis_url=settings.REDIS_URL,
                    cache_ttl=settings.CONTEXT_CACHE_TTL,
                )
            service = _SERVICE
    return service


def reset_context_service(**_kwargs: Any) -> None:
    global _SERVICE
    with _SERVICE_LOCK:
        _SERVICE = None


setting_changed.connect(reset_context_service)
