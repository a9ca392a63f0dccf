"""Running the providers: the one compute path for one customer or thousands.

Every provider runs once per chunk of customers (``fetch_many``: a few
set-based queries with ``IN`` lists); a single context is a chunk of one.
Network-bound providers (``concurrent``) run in a small thread pool while the
database providers run in this thread; derived providers (``depends_on``) run
last. A provider that raises or times out gets its section's defaults and an
entry in ``degraded`` for every customer of the chunk; an overall deadline
bounds the run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any

import structlog
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from config.db import PlannedQuery, prefetched
from customers.selectors import CustomerRef, customer_ref_get, customer_ref_planned
from enrichment.churn.serving import actions_ranked
from enrichment.context.enriched import EnrichedContext
from enrichment.context.exceptions import ContextUnavailable
from enrichment.context.sections import CustomerIntelligence, Degraded, SourceInfo
from enrichment.ops import metrics
from enrichment.providers.base import ContextProvider, ProviderRequest
from enrichment.rules.actions import suggest_actions

logger = structlog.get_logger(__name__)

DATABASE_ERROR = "database error"


@dataclass
class _Chunk:
    """The sections, sources and degradations gathered for a chunk."""

    now: dt.datetime
    requests: list[ProviderRequest]
    sections: dict[int, dict[str, Any]]
    sources: dict[int, dict[str, SourceInfo]]
    degraded: dict[int, list[Degraded]]
    timings: dict[str, float] = field(default_factory=dict)


class RefOutdated(Exception):
    """The guessed customer is not what the database holds (renamed, gone, re-created)."""

    def __init__(self, found: CustomerRef | None):
        super().__init__("the customer changed since this process last looked it up")
        self.found = found


class ProviderRunner:
    """Runs a fixed list of providers (already in dependency order)."""

    def __init__(self, providers: Sequence[ContextProvider], *, deadline: float, pipeline: bool = True):
        self.providers = list(providers)
        self.deadline = deadline
        self.pipeline = pipeline  # a single customer's statements in one round trip (False: one by one)
        self.versioned = [p for p in self.providers if type(p).data_version is not ContextProvider.data_version]

    def data_versions(self) -> dict[str, str]:
        """The current data version of each versioned section (cheap reads)."""
        return {p.key: p.data_version() or "" for p in self.versioned}

    def keys_to_run(self, only: Sequence[str] | set[str] | frozenset[str] | None) -> set[str]:
        """All sections, or ``only`` plus every section derived from them."""
        keys = {p.key for p in self.providers}
        if only is None:
            return keys
        wanted = set(only)
        for provider in self.providers:  # dependency order: derived after their inputs
            if set(provider.depends_on) & wanted:
                wanted.add(provider.key)
        return wanted & keys

    def run(
        self,
        customers: Sequence[CustomerRef],
        *,
        started: float,
        previous: Mapping[int, EnrichedContext] | None = None,
        only: set[str] | frozenset[str] | None = None,
        strict: bool = False,
        now: dt.datetime | None = None,
        verify: bool = False,
    ) -> tuple[list[EnrichedContext], dict[str, float]]:
        """Contexts for ``customers``, in their order, and each provider's time.

        With ``previous`` and ``only``, the sections outside ``only`` are kept
        from the previous context. ``strict``: a provider's database error
        raises :class:`ContextUnavailable` (so the caller can reconnect and
        retry) instead of degrading its section. ``now``: the moment the
        context is as of (default: the current time). ``verify``: the one
        customer was guessed (:mod:`enrichment.engine.refs`); it is looked up
        in the statements' round trip and :class:`RefOutdated` raised when
        the database knows it otherwise."""
        now = now or timezone.now()
        chunk = _Chunk(
            now=now,
            requests=[ProviderRequest(customer=c, now=now) for c in customers],
            sections={c.pk: {} for c in customers},
            sources={c.pk: {} for c in customers},
            degraded={c.pk: [] for c in customers},
        )
        run_keys = self.keys_to_run(only)
        if previous and only is not None:
            _keep_previous(chunk, previous, run_keys)
        to_run = [p for p in self.providers if p.key in run_keys and p.is_enabled()]
        versions = {p.key: p.data_version() or "" for p in self.versioned if p.key in run_keys}  # read before the data
        deadline = started + self.deadline
        planned, early = _planned(to_run, chunk.requests) if self.pipeline else ([], [])
        if verify:
            planned = [*customer_ref_planned(external_id=customers[0].external_id), *planned]
        with prefetched(planned, meanwhile=lambda: [self._run_inline(chunk, p, versions, deadline) for p in early]):
            if verify and (found := customer_ref_get(external_id=customers[0].external_id)) != customers[0]:
                raise RefOutdated(found)
            self._run_all(chunk, [p for p in to_run if p not in early], versions, deadline=deadline)
        if strict and any(d.reason.startswith(DATABASE_ERROR) for items in chunk.degraded.values() for d in items):
            raise ContextUnavailable("a provider lost the database")
        contexts = [
            _assemble(c, chunk.sections[c.pk], chunk.sources[c.pk], chunk.degraded[c.pk], now, started) for c in customers
        ]
        return contexts, chunk.timings

    def _run_all(self, chunk: _Chunk, to_run: list[ContextProvider], versions: dict[str, str], *, deadline: float) -> None:
        futures: dict[str, tuple[ContextProvider, Future, float]] = {}
        for provider in to_run:
            if provider.concurrent and not provider.depends_on:
                snapshot = {pk: dict(sections) for pk, sections in chunk.sections.items()}
                futures[provider.key] = (
                    provider,
                    _executor().submit(_fetch_in_thread, provider, chunk.requests, snapshot),
                    time.perf_counter(),
                )
        for provider in to_run:
            if provider.key not in futures and not provider.depends_on:
                self._run_inline(chunk, provider, versions, deadline)
        for provider, future, submitted in futures.values():
            remaining = min(submitted + provider.timeout, deadline) - time.perf_counter()
            try:
                values = future.result(timeout=max(0.0, remaining))
            except FutureTimeout:
                future.cancel()
                _record(chunk, provider, {}, time.perf_counter() - submitted, f"timeout after {provider.timeout:g}s", versions)
            except Exception as exc:  # noqa: BLE001 - a failing provider degrades its section only
                logger.warning("provider_failed", provider=provider.name, error=type(exc).__name__)
                _record(chunk, provider, {}, time.perf_counter() - submitted, f"error: {type(exc).__name__}", versions)
            else:
                _record(chunk, provider, values, time.perf_counter() - submitted, None, versions)
        for provider in to_run:
            if provider.depends_on:
                self._run_inline(chunk, provider, versions, deadline)

    def _run_inline(self, chunk: _Chunk, provider: ContextProvider, versions: dict[str, str], deadline: float) -> None:
        if time.perf_counter() >= deadline:
            _record(chunk, provider, {}, 0.0, "deadline exceeded before it ran", versions)
            return
        t0 = time.perf_counter()
        try:
            values = provider.fetch_many(chunk.requests, sections=chunk.sections)
        except Exception as exc:
            logger.warning(
                "provider_failed", provider=provider.name, error=type(exc).__name__, customers=len(chunk.requests), exc_info=True
            )
            kind = DATABASE_ERROR if isinstance(exc, DatabaseError) else "error"
            if kind == DATABASE_ERROR and not connection.in_atomic_block:
                connection.close()  # a dead connection must not fail the providers after this one
            _record(chunk, provider, {}, time.perf_counter() - t0, f"{kind}: {type(exc).__name__}", versions)
            return
        elapsed = time.perf_counter() - t0
        if elapsed > provider.timeout:
            logger.warning("provider_slow", provider=provider.name, elapsed_ms=round(elapsed * 1000, 1))
        _record(chunk, provider, values, elapsed, None, versions)


def _planned(providers: list[ContextProvider], requests: list[ProviderRequest]) -> tuple[list[PlannedQuery], list[ContextProvider]]:
    """A single customer's statements, gathered from the providers that run in
    this thread, to be sent in one round trip, and the providers that plan
    none and depend on none (e.g. a Redis read): they run while the
    statements are on the wire. A chunk of many runs each provider's
    set-based queries instead."""
    if len(requests) != 1:
        return [], []
    (request,) = requests
    planned: list[PlannedQuery] = []
    early: list[ContextProvider] = []
    for provider in providers:
        if provider.concurrent:
            continue
        own = provider.planned_queries(request)
        planned.extend(own)
        if not own and not provider.depends_on:
            early.append(provider)
    return planned, early


def _record(
    chunk: _Chunk,
    provider: ContextProvider,
    values: Mapping[int, Any],
    elapsed: float,
    failure: str | None,
    versions: Mapping[str, str],
) -> None:
    """Store a provider's sections for the chunk; a missing value degrades."""
    elapsed_ms = round(elapsed * 1000, 3)
    chunk.timings[provider.name] = elapsed_ms
    metrics.observe_provider(provider.name, elapsed)
    now = chunk.now
    ok = SourceInfo(provider.name, provider.source, now, provider.ttl, False, "computed", elapsed_ms, versions.get(provider.key, ""))
    # A degraded section is retried on the next read (ttl 0).
    bad = SourceInfo(provider.name, provider.source, now, 0, True, "computed", elapsed_ms)
    for request in chunk.requests:
        pk = request.customer.pk
        value = values.get(pk)
        if value is None:
            reason = failure or "no result"
            value = provider.default()
            chunk.degraded[pk].append(Degraded(section=provider.key, reason=reason))
            metrics.degraded(provider.key, reason)
            chunk.sources[pk][provider.key] = bad
        else:
            chunk.sources[pk][provider.key] = dataclasses.replace(ok, stale=True) if provider.is_stale(value, now) else ok
        chunk.sections[pk][provider.key] = value


def _keep_previous(chunk: _Chunk, previous: Mapping[int, EnrichedContext], run_keys: set[str]) -> None:
    for request in chunk.requests:
        pk = request.customer.pk
        before = previous.get(pk)
        if before is None:
            continue
        for key, source in before.sources.items():
            if key not in run_keys:
                chunk.sections[pk][key] = before.section(key)
                chunk.sources[pk][key] = dataclasses.replace(source, tier="l2")
        chunk.degraded[pk].extend(d for d in before.degraded if d.section not in run_keys)


def _assemble(
    customer: CustomerRef,
    sections: dict[str, Any],
    sources: dict[str, SourceInfo],
    degraded: list[Degraded],
    now: dt.datetime,
    started: float,
) -> EnrichedContext:
    intel: CustomerIntelligence = sections.get("customer_intelligence") or CustomerIntelligence()
    if not intel.customer_id:  # the provider failed: keep at least who this is
        intel = dataclasses.replace(
            intel,
            customer_id=customer.external_id,
            company_name=customer.company_name,
            domain=customer.domain,
            industry=customer.industry,
            region=customer.region,
            customer_since=customer.customer_since,
        )
    health = sections.get("account_health")
    if health is not None:
        intel = dataclasses.replace(
            intel,
            health_score=health.health_score,
            health_label=health.health_label,
            churn_risk=health.churn_risk,
            churn_risk_level=health.churn_risk_level,
        )
    fields: dict[str, Any] = {key: value for key, value in sections.items() if value is not None}
    fields["customer_intelligence"] = intel
    fields["next_actions"] = actions_ranked(suggest_actions(fields))  # pure, from the flags just derived
    return EnrichedContext.assemble(
        fields,
        enriched_at=now,
        cache_hit=False,
        enrichment_latency_ms=round((time.perf_counter() - started) * 1000, 3),
        sources=sources,
        degraded=tuple(degraded),
    )


def _fetch_in_thread(
    provider: ContextProvider, requests: list[ProviderRequest], sections: dict[int, dict[str, Any]]
) -> dict[int, Any]:
    try:
        return provider.fetch_many(requests, sections=sections)
    finally:
        close_old_connections()


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="context-provider")
        return _POOL
