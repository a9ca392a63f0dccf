"""The context service: the one entry point every caller uses.

``enrich_context`` answers from L1, then L2, else runs the providers (inline
database providers in this thread, network-bound ones concurrently in a small
thread pool), derives health, churn risk and flags, stores the result in both
tiers and returns an :class:`EnrichedContext`. A provider that raises or times
out gets its section's defaults and an entry in ``degraded``; an overall
deadline bounds the call.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import structlog
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import caches
from django.core.signals import setting_changed
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from customers.models import EXTERNAL_ID_PATTERN
from customers.selectors import (
    CustomerRef,
    customer_external_id_for_domain,
    customer_external_id_for_email,
    customer_ref_get,
)
from enrichment.context.enriched import EnrichedContext
from enrichment.context.exceptions import ContextEnrichmentError, CustomerNotFound, InvalidLookup
from enrichment.context.registry import section_types
from enrichment.context.sections import CustomerIntelligence, Degraded, SourceInfo
from enrichment.engine.batch import BatchEnrichmentMixin
from enrichment.engine.cache import ContextCache, L2Cache, expired_sections, make_l1, mark_hit, section_versions, with_latency
from enrichment.ops import metrics
from enrichment.providers.base import INTERNAL_SOURCES, ContextProvider, ProviderRequest
from enrichment.providers.registry import load_providers
from enrichment.rules.actions import suggest_actions

logger = structlog.get_logger(__name__)

_EXTERNAL_ID = re.compile(EXTERNAL_ID_PATTERN)
_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")


class ContextUnavailable(ContextEnrichmentError):
    """The customer could not even be looked up (database unreachable)."""


def validate_customer_id(customer_id: Any) -> str:
    if not isinstance(customer_id, str) or not _EXTERNAL_ID.match(customer_id):
        raise InvalidLookup("customer_id must be 1-64 characters of letters, digits, '_', '.', ':' or '-', starting with a letter or digit")
    return customer_id


def _executor() -> ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="context-provider")
        return _POOL


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _run_in_thread(provider: ContextProvider, request: ProviderRequest, sections: dict[str, Any]) -> Any:
    try:
        return provider.fetch(request, sections=sections)
    finally:
        close_old_connections()


class ContextEnrichmentService(BatchEnrichmentMixin):
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
        self.deadline = (deadline_ms if deadline_ms is not None else settings.ENRICHMENT_DEADLINE_MS) / 1000
        all_providers = list(providers) if providers is not None else load_providers()
        self.providers = [p for p in all_providers if enable_external_apis or p.source in INTERNAL_SOURCES]
        # Providers whose data has a version other processes can move on (product status).
        self._versioned = [p for p in self.providers if type(p).data_version is not ContextProvider.data_version]
        self.cache: ContextCache | None = None
        if enable_caching:
            l1 = make_l1(
                max_entries=l1_max_entries if l1_max_entries is not None else settings.CONTEXT_L1_MAX_ENTRIES,
                ttl=min(l1_ttl if l1_ttl is not None else settings.CONTEXT_L1_TTL, cache_ttl),
            )
            backend = _l2_backend(redis_url)
            self.cache = ContextCache(l1=l1, l2=L2Cache(backend, ttl=cache_ttl) if backend is not None else None)

    # -- lookups --------------------------------------------------------------------
    @staticmethod
    def validate(customer_id: Any) -> str:
        return validate_customer_id(customer_id)

    def resolve_customer_id(self, *, email: str | None = None, domain: str | None = None) -> str:
        """The external id of the customer a contact email or a domain belongs to."""
        if email is not None:
            email = email.strip()
            if len(email) > 254 or not _EMAIL.match(email):
                raise InvalidLookup("email is not a valid email address")
            found = customer_external_id_for_email(email=email)
            if found is None:
                raise CustomerNotFound(f"email {email!r}")
            return found
        if domain is not None:
            domain = domain.strip().lower().removeprefix("www.")
            if not _DOMAIN.match(domain):
                raise InvalidLookup("domain is not a valid domain name")
            found = customer_external_id_for_domain(domain=domain)
            if found is None:
                raise CustomerNotFound(f"domain {domain!r}")
            return found
        raise InvalidLookup("give an email or a domain")

    # -- the context ------------------------------------------------------------------
    def enrich_context(self, customer_id: str, force_refresh: bool = False) -> EnrichedContext:
        started = time.perf_counter()
        customer_id = validate_customer_id(customer_id)
        cached: EnrichedContext | None = None
        generation: str | None = None
        if self.cache is not None and not force_refresh:
            hit = self.cache.get_l1(customer_id)
            if hit is not None:
                counts = metrics.TIER_COUNTS  # a plain int per process: the L1 path stays ~2 µs
                counts[0] += 1
                if not counts[0] % metrics.L1_SAMPLE:
                    metrics.CONTEXT_SECONDS.labels("l1").observe(time.perf_counter() - started)
                return with_latency(hit, _ms(started))
            cached, generation = self.cache.get_l2(customer_id)
            if cached is not None:
                now = timezone.now()
                expired = expired_sections(cached, now) | self._outdated_sections(cached)
                if not expired:
                    self.cache.set_l1(mark_hit(cached, "l1"))
                    metrics.observe_context(metrics.L2, time.perf_counter() - started)
                    return with_latency(mark_hit(cached, "l2"), _ms(started))
                context = self._compute_and_store(customer_id, started, generation, previous=cached, only=expired)
                metrics.observe_context(metrics.PARTIAL, time.perf_counter() - started)
                return context
        elif self.cache is not None:
            generation = self.cache.generation(customer_id)
        context = self._compute_and_store(customer_id, started, generation)
        metrics.observe_context(metrics.COMPUTED, time.perf_counter() - started)
        return context

    def _outdated_sections(self, cached: EnrichedContext) -> set[str]:
        """Cached sections whose provider's data version moved on (see
        ``ContextProvider.data_version``); empty without versioned providers."""
        if not self._versioned:
            return set()
        stamped = section_versions(cached)
        outdated = set()
        for provider in self._versioned:
            current = provider.data_version()
            if current is not None and stamped.get(provider.key, "") != current:
                outdated.add(provider.key)
        return outdated

    def invalidate_cache(self, customer_id: str) -> None:
        customer_id = validate_customer_id(customer_id)
        if self.cache is not None:
            self.cache.delete(customer_id)
        logger.info("context_invalidated", customer_id=customer_id)

    def get_context_summary(self, customer_id: str) -> dict[str, Any]:
        return self.enrich_context(customer_id).get_summary()

    async def aenrich_context(self, customer_id: str, force_refresh: bool = False) -> EnrichedContext:
        return await sync_to_async(self.enrich_context, thread_sensitive=True)(customer_id, force_refresh)

    async def ainvalidate_cache(self, customer_id: str) -> None:
        await sync_to_async(self.invalidate_cache, thread_sensitive=True)(customer_id)

    async def aget_context_summary(self, customer_id: str) -> dict[str, Any]:
        return (await self.aenrich_context(customer_id)).get_summary()

    async def aresolve_customer_id(self, *, email: str | None = None, domain: str | None = None) -> str:
        return await sync_to_async(self.resolve_customer_id, thread_sensitive=True)(email=email, domain=domain)

    # -- computation --------------------------------------------------------------------
    def _compute_and_store(
        self,
        customer_id: str,
        started: float,
        generation: str | None,
        *,
        previous: EnrichedContext | None = None,
        only: set[str] | None = None,
    ) -> EnrichedContext:
        """Compute and cache. ``generation`` was read before computing began
        (see :class:`~enrichment.engine.cache.ContextCache`)."""
        try:
            customer, context, timings = self._lookup_and_compute(
                customer_id, started, previous=previous, only=only, strict=_reconnectable()
            )
        except (DatabaseError, ContextUnavailable) as exc:
            if not _reconnectable() or _cannot_connect(exc):
                if previous is not None:
                    return with_latency(mark_hit(previous, "l2"), _ms(started))
                raise _unavailable(customer_id, exc) from exc
            # A dropped connection (database restart, pg_terminate_backend, a
            # failover): reconnect once and try again before giving up.
            logger.warning("context_database_retry", customer_id=customer_id, error=type(exc).__name__)
            connection.close()
            try:
                customer, context, timings = self._lookup_and_compute(
                    customer_id, started, previous=previous, only=only, strict=False
                )
            except (DatabaseError, ContextUnavailable) as again:
                if previous is not None:
                    return with_latency(mark_hit(previous, "l2"), _ms(started))
                raise _unavailable(customer_id, again) from again
        if self.record_health:
            _record_health(customer.pk, context)
        if self.cache is not None:
            self.cache.set(context, generation=generation)
        logger.info(
            "context_enriched",
            customer_id=customer_id,
            tier="partial" if only else "computed",
            latency_ms=context.enrichment_latency_ms,
            providers=timings,
            degraded=[d.section for d in context.degraded] or None,
        )
        return context

    def _lookup_and_compute(
        self, customer_id: str, started: float, *, previous: EnrichedContext | None, only: set[str] | None, strict: bool
    ) -> tuple[CustomerRef, EnrichedContext, dict[str, float]]:
        """``strict``: a provider's database error raises (so the caller can
        reconnect and retry) instead of degrading its section."""
        customer = customer_ref_get(external_id=customer_id)
        if customer is None:
            raise CustomerNotFound(f"customer_id {customer_id!r}")
        context, timings = self.compute(customer, previous=previous, only=only, started=started)
        if strict and any(d.reason.startswith("database error") for d in context.degraded):
            raise ContextUnavailable("a provider lost the database")
        return customer, context, timings

    def compute(
        self,
        customer: CustomerRef,
        *,
        previous: EnrichedContext | None = None,
        only: Iterable[str] | None = None,
        started: float | None = None,
    ) -> tuple[EnrichedContext, dict[str, float]]:
        """Run the providers for one customer (all, or only the sections in
        ``only`` plus everything derived from them) and assemble the context."""
        started = time.perf_counter() if started is None else started
        deadline = started + self.deadline
        now = timezone.now()
        request = ProviderRequest(customer=customer, now=now)
        sections: dict[str, Any] = {}
        sources: dict[str, SourceInfo] = {}
        degraded: list[Degraded] = []
        timings: dict[str, float] = {}

        run_keys = self._keys_to_run(only)
        if previous is not None and only is not None:
            for key in _section_keys():
                if key not in run_keys and key in previous.sources:
                    sections[key] = previous.section(key)
                    sources[key] = dataclasses.replace(previous.sources[key], tier="l2")
            degraded.extend(d for d in previous.degraded if d.section not in run_keys)

        to_run = [p for p in self.providers if p.key in run_keys]
        versions = {p.key: p.data_version() or "" for p in self._versioned if p.key in run_keys}  # read before the data
        futures: dict[str, tuple[ContextProvider, Future, float]] = {}
        for provider in to_run:
            if provider.concurrent and not provider.depends_on and provider.is_enabled():
                submitted = time.perf_counter()
                futures[provider.key] = (
                    provider,
                    _executor().submit(_run_in_thread, provider, request, dict(sections)),
                    submitted,
                )

        def record(provider: ContextProvider, value: Any, elapsed: float, failure: str | None) -> None:
            timings[provider.name] = round(elapsed * 1000, 3)
            metrics.observe_provider(provider.name, elapsed)
            if failure is not None:
                degraded.append(Degraded(section=provider.key, reason=failure))
                metrics.degraded(provider.key, failure)
                value = provider.default()
                ttl = 0  # retry the section on the next read
            else:
                ttl = provider.ttl
            sections[provider.key] = value
            sources[provider.key] = SourceInfo(
                provider=provider.name,
                source=provider.source,
                fetched_at=now,
                ttl=ttl,
                stale=failure is not None or provider.is_stale(value, now),
                tier="computed",
                latency_ms=round(elapsed * 1000, 3),
                version="" if failure is not None else versions.get(provider.key, ""),
            )

        def run_inline(provider: ContextProvider) -> None:
            if not provider.is_enabled():
                return
            if time.perf_counter() >= deadline:
                record(provider, None, 0.0, "deadline exceeded before it ran")
                return
            t0 = time.perf_counter()
            try:
                value = provider.fetch(request, sections=sections)
            except Exception as exc:  # a failing provider degrades its section only
                logger.warning("provider_failed", provider=provider.name, error=type(exc).__name__, exc_info=True)
                kind = "database error" if isinstance(exc, DatabaseError) else "error"
                if kind == "database error" and _reconnectable():
                    connection.close()  # a dead connection must not fail the providers after this one
                record(provider, None, time.perf_counter() - t0, f"{kind}: {type(exc).__name__}")
                return
            elapsed = time.perf_counter() - t0
            if elapsed > provider.timeout:
                logger.warning("provider_slow", provider=provider.name, elapsed_ms=round(elapsed * 1000, 1))
            record(provider, value, elapsed, None)

        for provider in to_run:
            if provider.key not in futures and not provider.depends_on:
                run_inline(provider)
        for provider, future, submitted in futures.values():
            remaining = min(submitted + provider.timeout, deadline) - time.perf_counter()
            try:
                value = future.result(timeout=max(0.0, remaining))
            except FutureTimeout:
                future.cancel()
                record(provider, None, time.perf_counter() - submitted, f"timeout after {provider.timeout:g}s")
            except Exception as exc:  # noqa: BLE001
                logger.warning("provider_failed", provider=provider.name, error=type(exc).__name__)
                record(provider, None, time.perf_counter() - submitted, f"error: {type(exc).__name__}")
            else:
                record(provider, value, time.perf_counter() - submitted, None)
        for provider in to_run:
            if provider.depends_on:
                run_inline(provider)

        context = self._assemble(customer, sections, sources, degraded, now, started)
        return context, timings

    def _keys_to_run(self, only: Iterable[str] | None) -> set[str]:
        keys = {p.key for p in self.providers}
        if only is None:
            return keys
        wanted = set(only)
        for provider in self.providers:  # dependency order: derived after their inputs
            if set(provider.depends_on) & wanted:
                wanted.add(provider.key)
        return wanted & keys

    def _assemble(
        self,
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
        fields["next_actions"] = suggest_actions(fields)  # pure, from the flags just derived
        return EnrichedContext.assemble(
            fields,
            enriched_at=now,
            cache_hit=False,
            enrichment_latency_ms=_ms(started),
            sources=sources,
            degraded=tuple(degraded),
        )


def _cannot_connect(exc: BaseException) -> bool:
    """No connection could be had at all (the pool timed out): a retry would
    only wait as long again."""
    from psycopg_pool import PoolTimeout

    return isinstance(exc.__cause__, PoolTimeout) or isinstance(exc, PoolTimeout)


def _reconnectable() -> bool:
    """Reconnecting is only safe outside a transaction."""
    return not connection.in_atomic_block


def _unavailable(customer_id: str, exc: Exception) -> ContextUnavailable:
    logger.error("context_database_unavailable", customer_id=customer_id, error=type(exc).__name__)
    return exc if isinstance(exc, ContextUnavailable) else ContextUnavailable("the customer database is unreachable")


def _record_health(customer_pk: int, context: EnrichedContext) -> None:
    from enrichment.history.writer import health_record

    health_record(customer_pk=customer_pk, context=context)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def _section_keys() -> tuple[str, ...]:
    return tuple(section_types())


def _l2_backend(redis_url: str | None):
    if not redis_url:
        return None
    if redis_url == settings.REDIS_URL:
        return caches[settings.CONTEXT_CACHE_ALIAS]
    from django_redis.cache import RedisCache

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
