"""Many contexts at once: the API's batch endpoint and the scheduled refresh.

Each provider runs once for a whole chunk of customers (``fetch_many``: a few
set-based queries with ``IN`` lists) instead of once per customer, the cache is
read with one MGET and written with one pipeline, and the latest health of the
whole chunk is upserted in one statement.
"""

from __future__ import annotations

import dataclasses
import gc
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import structlog
from django.utils import timezone

from customers.selectors import CustomerRef, customer_refs_chunks, customer_refs_get
from enrichment.context.enriched import EnrichedContext
from enrichment.context.exceptions import ContextEnrichmentError, CustomerNotFound, InvalidLookup
from enrichment.context.sections import Degraded, SourceInfo
from enrichment.engine.cache import expired_sections, mark_hit
from enrichment.ops import metrics
from enrichment.providers.base import ProviderRequest

if TYPE_CHECKING:
    from enrichment.engine.service import ContextEnrichmentService

logger = structlog.get_logger(__name__)

BatchResult = dict[str, "EnrichedContext | ContextEnrichmentError"]


class BatchEnrichmentMixin:
    """Batch methods of :class:`~enrichment.engine.service.ContextEnrichmentService`."""

    def compute_many(self: ContextEnrichmentService, customers: Sequence[CustomerRef]) -> list[EnrichedContext]:
        """Run every provider once for all ``customers`` and assemble their contexts.
        A provider that fails degrades its section for the whole chunk."""
        started = time.perf_counter()
        now = timezone.now()
        requests = [ProviderRequest(customer=c, now=now) for c in customers]
        sections: dict[int, dict[str, Any]] = {c.pk: {} for c in customers}
        sources: dict[int, dict[str, SourceInfo]] = {c.pk: {} for c in customers}
        degraded: dict[int, list[Degraded]] = {c.pk: [] for c in customers}
        versions = {p.key: p.data_version() or "" for p in self._versioned}  # read before the data
        for provider in self.providers:
            if not provider.is_enabled():
                continue
            t0 = time.perf_counter()
            try:
                values = provider.fetch_many(requests, sections=sections)
                failure = None
            except Exception as exc:  # noqa: BLE001 - degrade the section, keep the batch
                logger.warning("provider_failed", provider=provider.name, error=type(exc).__name__, batch=len(requests))
                values, failure = {}, f"error: {type(exc).__name__}"
            elapsed_ms = round((time.perf_counter() - t0) * 1000, 3)
            metrics.observe_provider(provider.name, elapsed_ms / 1000)
            version = versions.get(provider.key, "")
            ok_source = SourceInfo(provider.name, provider.source, now, provider.ttl, False, "computed", elapsed_ms, version)
            bad_source = SourceInfo(provider.name, provider.source, now, 0, True, "computed", elapsed_ms)
            for request in requests:
                pk = request.customer.pk
                value = values.get(pk)
                if value is None:
                    value = provider.default()
                    degraded[pk].append(Degraded(provider.key, failure or "no result"))
                    metrics.degraded(provider.key, failure or "no result")
                    sources[pk][provider.key] = bad_source
                else:
                    sources[pk][provider.key] = (
                        dataclasses.replace(ok_source, stale=True) if provider.is_stale(value, now) else ok_source
                    )
                sections[pk][provider.key] = value
        return [
            self._assemble(c, sections[c.pk], sources[c.pk], degraded[c.pk], now, started)
            for c in customers
        ]

    def enrich_many(
        self: ContextEnrichmentService, customer_ids: Iterable[Any], *, force_refresh: bool = False
    ) -> BatchResult:
        """Contexts for many customers: cache hits first (L1, then one L2 MGET),
        the rest computed together. Each id maps to its context or to the error
        for that id (invalid, not found); one bad id never fails the batch."""
        results: BatchResult = {}
        wanted: list[str] = []
        for raw in customer_ids:
            try:
                customer_id = self.validate(raw)
            except InvalidLookup as exc:
                results[str(raw)] = exc
                continue
            if customer_id not in results and customer_id not in wanted:
                wanted.append(customer_id)
        misses = wanted
        if self.cache is not None and not force_refresh:
            misses = []
            now = timezone.now()
            from_l2, _generations = self.cache.get_many_l2([cid for cid in wanted if self.cache.get_l1(cid) is None])
            for customer_id in wanted:
                hit = self.cache.get_l1(customer_id)
                if hit is not None:
                    results[customer_id] = hit
                    continue
                cached = from_l2.get(customer_id)
                if cached is not None and not expired_sections(cached, now) and not self._outdated_sections(cached):
                    results[customer_id] = mark_hit(cached, "l2")
                    self.cache.set_l1(mark_hit(cached, "l1"))
                else:
                    misses.append(customer_id)
        if misses:
            refs = customer_refs_get(external_ids=misses)
            for customer_id in misses:
                if customer_id not in refs:
                    results[customer_id] = CustomerNotFound(f"customer_id {customer_id!r}")
            found = [refs[cid] for cid in misses if cid in refs]
            for context in self._store_many(found):
                results[context.customer_id] = context
        return results

    def refresh_many(self: ContextEnrichmentService, customer_ids: Sequence[str], *, chunk_size: int = 500) -> int:
        """Recompute and cache the given customers' contexts; returns how many."""
        done = 0
        ids = list(dict.fromkeys(customer_ids))
        for start in range(0, len(ids), chunk_size):
            refs = customer_refs_get(external_ids=ids[start : start + chunk_size])
            done += len(self._store_many(list(refs.values())))
        return done

    def refresh_all(self: ContextEnrichmentService, *, chunk_size: int = 500) -> int:
        """Recompute and cache every customer's context, a chunk at a time."""
        done = 0
        for refs in customer_refs_chunks(chunk_size=chunk_size):
            done += len(self._store_many(refs))
        return done

    def _store_many(self: ContextEnrichmentService, refs: Sequence[CustomerRef]) -> list[EnrichedContext]:
        if not refs:
            return []
        # A chunk allocates tens of thousands of small acyclic objects; letting the
        # cyclic collector run over them repeatedly doubled the cost (measured).
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return self._store_chunk(refs)
        finally:
            if was_enabled:
                gc.enable()

    def _store_chunk(self: ContextEnrichmentService, refs: Sequence[CustomerRef]) -> list[EnrichedContext]:
        # Read before computing: an invalidation during the computation wins.
        generations = self.cache.generations([ref.external_id for ref in refs]) if self.cache is not None else {}
        contexts = self.compute_many(refs)
        if self.record_health:
            from enrichment.history.services import customer_health_upsert

            customer_health_upsert(rows=[(ref.pk, ctx) for ref, ctx in zip(refs, contexts, strict=True)])
        if self.cache is not None:
            self.cache.set_many(contexts, generations=generations)
        logger.info("contexts_refreshed", count=len(contexts))
        return contexts
