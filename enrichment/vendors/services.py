"""Writes of the vendors room: one attempt at asking a vendor about a
customer, and what it stores (see :mod:`enrichment.vendors.tasks` for the
outcomes and the retries around it).

Per attempt: the shared circuit breaker must allow the call, then the shared
rate limiter; the answer is stored with ``update_or_create`` on (customer,
vendor), so a task that runs twice stores nothing twice, and
:data:`~enrichment.vendors.signals.external_data_stored` is sent (the context
is invalidated after commit). A failure never wipes stored data: only
``status``/``error``/``attempts``/``checked_at`` change.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from dataclasses import dataclass
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from enrichment.vendors.base import CompanyDataClient, FundingClient, NewsClient, VendorClient, result_to_payload
from enrichment.vendors.circuit import CircuitBreaker
from enrichment.vendors.http import VendorError, VendorQueued, VendorRateLimited
from enrichment.vendors.models import ExternalRecord, ExternalStatus
from enrichment.vendors.ratelimit import RateLimiter
from enrichment.vendors.registry import make_client
from enrichment.vendors.selectors import crunchbase_permalink, external_record_is_fresh, vendor_customer_get
from enrichment.vendors.signals import external_data_stored

logger = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class RetryLater:
    """An attempt that should be repeated after ``wait`` seconds."""

    wait: float
    reason: str
    attempts: int  # vendor calls made so far for this fetch


def backoff(retries: int) -> float:
    """Exponential backoff with "equal jitter": half the delay fixed, half random."""
    delay = min(settings.EXTERNAL_RETRY_MAX_SECONDS, settings.EXTERNAL_RETRY_BASE_SECONDS * (2**retries))
    return delay / 2 + random.uniform(0, delay / 2)


# -- one attempt --------------------------------------------------------------------------------
def vendor_fetch_attempt(*, customer_pk: int, vendor: str, force: bool = False, attempt: int = 1) -> str | RetryLater:
    """One attempt: circuit, rate limit, the call, the stored outcome. Returns
    the stored status, why nothing was asked, or when to try again."""
    customer = vendor_customer_get(customer_id=customer_pk)
    if customer is None:
        return "unknown customer"
    if not force and external_record_is_fresh(customer_pk=customer_pk, vendor=vendor, now=timezone.now()):
        return "fresh"  # also what a re-delivered, already completed task finds
    client = make_client(vendor)
    if client is None:
        return "not configured"

    breaker = CircuitBreaker(vendor)
    if not breaker.allow():
        wait = max(1.0, breaker.retry_in()) + random.uniform(0, 1)
        external_record_store_failure(
            customer_pk=customer_pk, vendor=vendor, error="circuit open: vendor failing, calls paused", attempts=attempt - 1
        )
        return RetryLater(wait, "circuit open", attempt - 1)

    limiter = RateLimiter(vendor)
    decision = limiter.acquire()
    if not decision.allowed:
        logger.info("vendor_rate_limited_locally", vendor=vendor, wait=decision.retry_after)
        return RetryLater(decision.retry_after + random.uniform(0, 0.5), "rate limit reached (shared budget)", attempt - 1)

    started = time.perf_counter()
    try:
        result = _call(client, customer)
    except VendorError as exc:
        return _call_failed(exc, customer_pk=customer_pk, breaker=breaker, limiter=limiter, attempt=attempt, started=started)

    breaker.record_success()
    status = ExternalStatus.OK if result is not None else ExternalStatus.NO_DATA
    external_record_store_answer(customer=customer, vendor=vendor, result=result, attempts=attempt, now=timezone.now())
    logger.info("vendor_data_stored", vendor=vendor, customer_pk=customer_pk, status=status, attempts=attempt)
    return status


def _call(client: VendorClient, customer: dict[str, Any]) -> Any:
    domain = (customer["domain"] or "").strip().lower()
    if isinstance(client, CompanyDataClient):
        return client.find_company(domain) if domain else None
    if isinstance(client, FundingClient):
        permalink = crunchbase_permalink(customer_pk=customer["pk"], domain=domain)
        return client.find_funding(permalink) if permalink else None
    if isinstance(client, NewsClient):
        since = timezone.now().date() - dt.timedelta(days=settings.NEWSAPI_LOOKBACK_DAYS)
        return client.recent_news(customer["company_name"], domain=domain, since=since)
    raise TypeError(f"unknown client {client!r}")


def _call_failed(
    exc: VendorError, *, customer_pk: int, breaker: CircuitBreaker, limiter: RateLimiter, attempt: int, started: float
) -> str | RetryLater:
    """Count the failure for the circuit, store it, and say whether and when to retry."""
    vendor = breaker.vendor
    elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
    if exc.trips_circuit:
        breaker.record_failure()
    else:
        breaker.record_success()
    logger.warning("vendor_call_failed", vendor=vendor, customer_pk=customer_pk, error=type(exc).__name__, status=exc.status, ms=elapsed_ms)
    if isinstance(exc, VendorQueued):
        external_record_store_failure(
            customer_pk=customer_pk, vendor=vendor, error="queued at the vendor", attempts=attempt, status=ExternalStatus.QUEUED
        )
        wait = exc.retry_after if exc.retry_after is not None else settings.EXTERNAL_QUEUED_RETRY_SECONDS
        return RetryLater(wait, str(exc), attempt)
    external_record_store_failure(customer_pk=customer_pk, vendor=vendor, error=str(exc), attempts=attempt)
    if not exc.retryable:
        return ExternalStatus.ERROR
    if isinstance(exc, VendorRateLimited) and exc.retry_after is not None:
        limiter.block(exc.retry_after)
        return RetryLater(exc.retry_after + random.uniform(0, max(0.05, exc.retry_after * 0.1)), str(exc), attempt)
    return RetryLater(backoff(attempt - 1), str(exc), attempt)


# -- the stored record -----------------------------------------------------------------------------
@transaction.atomic
def external_record_store_answer(*, customer: dict[str, Any], vendor: str, result: Any, attempts: int, now: dt.datetime) -> None:
    """Store a vendor's answer (``result``, or ``None`` for "no such company")
    and announce it, so the context is invalidated after commit."""
    ExternalRecord.objects.update_or_create(
        customer_id=customer["pk"],
        vendor=vendor,
        defaults={
            "status": ExternalStatus.OK if result is not None else ExternalStatus.NO_DATA,
            "payload": result_to_payload(result) if result is not None else {},
            "fetched_at": now,
            "checked_at": now,
            "error": "",
            "attempts": attempts,
        },
    )
    external_data_stored.send(sender=ExternalRecord, customer_pk=customer["pk"], customer_id=customer["external_id"], vendor=vendor)


@transaction.atomic
def external_record_store_failure(*, customer_pk: int, vendor: str, error: str, attempts: int, status: str = ExternalStatus.ERROR) -> None:
    """Record the latest attempt's outcome; payload and fetched_at are kept."""
    now = timezone.now()
    _record, created = ExternalRecord.objects.get_or_create(
        customer_id=customer_pk,
        vendor=vendor,
        defaults={"status": status, "error": error[:2000], "attempts": attempts, "checked_at": now},
    )
    if not created:
        ExternalRecord.objects.filter(customer_id=customer_pk, vendor=vendor).update(
            status=status, error=error[:2000], attempts=attempts, checked_at=now
        )
