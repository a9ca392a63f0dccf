"""Celery tasks that fetch external company data (Clearbit or People Data Labs,
Crunchbase, NewsAPI) and store it for the request path to read.

``fetch_external_enrichment(customer_id)`` checks that the customer qualifies
(selective lookups: a live subscription with MRR >= EXTERNAL_ENRICHMENT_MIN_MRR
or a plan in EXTERNAL_ENRICHMENT_PLANS), then starts one ``fetch_vendor_data``
task per configured vendor: company data, then funding (a chain: the funding
lookup uses the Crunchbase handle Clearbit returned), and news in parallel. Each
vendor task is isolated: its failures, retries and circuit are its own.

Per vendor call: the shared circuit breaker must allow it, then the shared rate
limiter; the answer is stored with ``update_or_create`` on (customer, vendor),
so a task that runs twice (a worker killed after the call, the message
redelivered) stores nothing twice. Outcomes:

=====================  ====================================================
answer                 what happens
=====================  ====================================================
data                   stored ``ok``; the context is invalidated
no such company (404)  stored ``no_data``, not retried; context invalidated
queued (Clearbit 202)  stored ``queued``, retried after Retry-After or
                       EXTERNAL_QUEUED_RETRY_SECONDS
429                    retried after Retry-After (or the message's "reset in
                       N seconds", else backoff); every worker holds off
timeout, 5xx, network  retried with exponential backoff and jitter, counts
                       towards opening the circuit
401/402/403, bad body  stored ``error``, not retried (counts for the circuit)
circuit open           stored ``error`` "circuit open", retried after the
                       cool-down
=====================  ====================================================

After EXTERNAL_MAX_RETRIES the last error is stored and the task ends normally
(the next scheduled refresh tries again). Stored data is never wiped by a
failure: only ``status``/``error``/``attempts`` change.

Without a broker (eager mode) a retry waits in-line, but never longer than
EXTERNAL_EAGER_MAX_WAIT_SECONDS: a longer wait stores the error and stops.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import structlog
from celery import chain, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from billing.models import LIVE_STATUSES, Subscription
from customers.models import Customer
from enrichment.engine.services import context_invalidate_on_commit
from enrichment.vendors.base import CompanyDataClient, FundingClient, NewsClient, payload_to_result, result_to_payload
from enrichment.vendors.circuit import CircuitBreaker
from enrichment.vendors.http import VendorError, VendorQueued, VendorRateLimited
from enrichment.vendors.models import ExternalRecord, ExternalStatus
from enrichment.vendors.ratelimit import RateLimiter
from enrichment.vendors.registry import VENDORS, active_vendors, make_client

logger = structlog.get_logger(__name__)

FETCH_SOFT_TIME_LIMIT = 120
FETCH_TIME_LIMIT = 150


# -- selection (set-based) ---------------------------------------------------------------
def eligible_customers() -> QuerySet[Customer]:
    """Customers that get vendor lookups: a live subscription with enough MRR,
    or on one of the listed plans."""
    rule = Q(mrr__gte=Decimal(str(settings.EXTERNAL_ENRICHMENT_MIN_MRR)))
    plans = [p for p in settings.EXTERNAL_ENRICHMENT_PLANS if p]
    if plans:
        rule |= Q(plan__code__in=plans)
    qualifying = Subscription.objects.filter(rule, customer=OuterRef("pk"), status__in=LIVE_STATUSES)
    return Customer.objects.filter(Exists(qualifying))


def is_eligible(customer_pk: int) -> bool:
    return eligible_customers().filter(pk=customer_pk).exists()


def stale_external_customers(*, now: dt.datetime | None = None, limit: int | None = None) -> list[int]:
    """Eligible customers (pks, in pk order, at most ``limit``) missing fresh
    data from at least one active vendor. A vendor's record counts as fresh when it answered within
    EXTERNAL_DATA_TTL_HOURS, or was tried within the last day (failures are
    retried daily, not hourly)."""
    vendors = active_vendors()
    if not vendors:
        return []
    now = now or timezone.now()
    fresh_after = now - dt.timedelta(hours=settings.EXTERNAL_DATA_TTL_HOURS)
    tried_after = now - dt.timedelta(days=1)
    handled = ExternalRecord.objects.filter(Q(fetched_at__gte=fresh_after) | Q(checked_at__gte=tried_after), vendor__in=vendors)
    missing = Q()
    for vendor in vendors:  # one NOT EXISTS per vendor (at most three), one statement
        missing |= ~Exists(handled.filter(customer=OuterRef("pk"), vendor=vendor))
    ids = eligible_customers().filter(missing).order_by("pk").values_list("pk", flat=True)
    return list(ids[: limit or settings.EXTERNAL_REFRESH_BATCH])


# -- the tasks --------------------------------------------------------------------------------
@shared_task(name="enrichment.fetch_external_enrichment", bind=True, ignore_result=True)
def fetch_external_enrichment(self, customer_id: int | str, force: bool = False) -> dict[str, Any]:
    """Start the vendor lookups for one customer (a pk or an external id)."""
    lookup = {"pk": customer_id} if isinstance(customer_id, int) else {"external_id": customer_id}
    customer = Customer.objects.filter(**lookup).values("pk", "domain").first()
    if customer is None:
        return {"started": [], "skipped": "unknown customer"}
    if not is_eligible(customer["pk"]):
        logger.info("external_enrichment_not_eligible", customer_pk=customer["pk"])
        return {"started": [], "skipped": "not eligible"}
    vendors = active_vendors()
    if not vendors:
        return {"started": [], "skipped": "no vendor configured"}
    pk = customer["pk"]
    company = [v for v in vendors if VENDORS[v].kind == "company"]
    funding = [v for v in vendors if VENDORS[v].kind == "funding"]
    news = [v for v in vendors if VENDORS[v].kind == "news"]
    sigs = [fetch_vendor_data.si(pk, v, force) for v in company + funding]
    if len(sigs) > 1:
        chain(*sigs).apply_async()
    elif sigs:
        sigs[0].apply_async()
    for vendor in news:
        fetch_vendor_data.si(pk, vendor, force).apply_async()
    return {"started": vendors}


@dataclass(frozen=True, slots=True)
class RetryLater:
    """An attempt that should be repeated after ``wait`` seconds."""

    wait: float
    reason: str
    attempts: int  # vendor calls made so far for this fetch


@shared_task(
    name="enrichment.fetch_vendor_data",
    bind=True,
    ignore_result=True,
    soft_time_limit=FETCH_SOFT_TIME_LIMIT,
    time_limit=FETCH_TIME_LIMIT,
)
def fetch_vendor_data(self, customer_pk: int, vendor: str, force: bool = False) -> str:
    """Ask one vendor about one customer and store the answer. Returns the
    stored status (or why nothing was asked).

    On a worker a retry is a new message with a countdown (``self.retry``).
    Eagerly (no broker) Celery cannot retry, so the attempts loop here, each
    wait at most EXTERNAL_EAGER_MAX_WAIT_SECONDS."""
    retries = self.request.retries
    max_retries = settings.EXTERNAL_MAX_RETRIES
    while True:
        try:
            outcome = attempt_vendor_fetch(customer_pk, vendor, force=force, attempt=retries + 1)
        except SoftTimeLimitExceeded:
            _store_failure(customer_pk, vendor, f"task time limit ({FETCH_SOFT_TIME_LIMIT}s) reached", retries + 1)
            return ExternalStatus.ERROR
        if not isinstance(outcome, RetryLater):
            return outcome
        if retries >= max_retries:
            _store_failure(customer_pk, vendor, f"gave up after {outcome.attempts} attempt(s): {outcome.reason}", outcome.attempts)
            return ExternalStatus.ERROR
        if outcome.wait > settings.EXTERNAL_RETRY_MAX_SECONDS:
            # e.g. NewsAPI's daily budget spent: a countdown that long would outlive
            # the broker's visibility timeout; the next scheduled refresh asks again.
            _store_failure(
                customer_pk, vendor, f"{outcome.reason} (next try in {outcome.wait:.0f}s: left to the schedule)", outcome.attempts
            )
            return ExternalStatus.ERROR
        if not self.request.is_eager:
            raise self.retry(countdown=max(0.0, outcome.wait), max_retries=max_retries)
        if outcome.wait > settings.EXTERNAL_EAGER_MAX_WAIT_SECONDS:
            _store_failure(customer_pk, vendor, f"{outcome.reason} (not retried in-line: would wait {outcome.wait:.0f}s)", outcome.attempts)
            return ExternalStatus.ERROR
        time.sleep(max(0.0, outcome.wait))
        retries += 1


def attempt_vendor_fetch(customer_pk: int, vendor: str, *, force: bool = False, attempt: int = 1) -> str | RetryLater:
    """One attempt: circuit, rate limit, the call, the stored outcome."""
    customer = Customer.objects.filter(pk=customer_pk).values("pk", "external_id", "company_name", "domain").first()
    if customer is None:
        return "unknown customer"
    now = timezone.now()
    record = ExternalRecord.objects.filter(customer_id=customer_pk, vendor=vendor).values("status", "fetched_at").first()
    fresh_after = now - dt.timedelta(hours=settings.EXTERNAL_DATA_TTL_HOURS)
    if (
        not force
        and record is not None
        and record["status"] in (ExternalStatus.OK, ExternalStatus.NO_DATA)
        and record["fetched_at"] is not None
        and record["fetched_at"] >= fresh_after
    ):
        return "fresh"  # also what a re-delivered, already completed task finds
    client = make_client(vendor)
    if client is None:
        return "not configured"

    breaker = CircuitBreaker(vendor)
    if not breaker.allow():
        wait = max(1.0, breaker.retry_in()) + random.uniform(0, 1)
        _store_failure(customer_pk, vendor, "circuit open: vendor failing, calls paused", attempt - 1)
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
        elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        if exc.trips_circuit:
            breaker.record_failure()
        else:
            breaker.record_success()
        logger.warning(
            "vendor_call_failed", vendor=vendor, customer_pk=customer_pk, error=type(exc).__name__, status=exc.status, ms=elapsed_ms
        )
        if isinstance(exc, VendorQueued):
            _store_failure(customer_pk, vendor, "queued at the vendor", attempt, status=ExternalStatus.QUEUED)
            wait = exc.retry_after if exc.retry_after is not None else settings.EXTERNAL_QUEUED_RETRY_SECONDS
            return RetryLater(wait, str(exc), attempt)
        _store_failure(customer_pk, vendor, str(exc), attempt)
        if not exc.retryable:
            return ExternalStatus.ERROR
        if isinstance(exc, VendorRateLimited) and exc.retry_after is not None:
            limiter.block(exc.retry_after)
            return RetryLater(exc.retry_after + random.uniform(0, max(0.05, exc.retry_after * 0.1)), str(exc), attempt)
        return RetryLater(backoff(attempt - 1), str(exc), attempt)

    breaker.record_success()
    status = ExternalStatus.OK if result is not None else ExternalStatus.NO_DATA
    _store_answer(customer, vendor, result, attempt, timezone.now())
    logger.info("vendor_data_stored", vendor=vendor, customer_pk=customer_pk, status=status, attempts=attempt)
    return status


def backoff(retries: int) -> float:
    """Exponential backoff with "equal jitter": half the delay fixed, half random."""
    delay = min(settings.EXTERNAL_RETRY_MAX_SECONDS, settings.EXTERNAL_RETRY_BASE_SECONDS * (2**retries))
    return delay / 2 + random.uniform(0, delay / 2)


def _call(client, customer: dict[str, Any]):
    domain = (customer["domain"] or "").strip().lower()
    if isinstance(client, CompanyDataClient):
        return client.find_company(domain) if domain else None
    if isinstance(client, FundingClient):
        permalink = _crunchbase_permalink(customer["pk"], domain)
        return client.find_funding(permalink) if permalink else None
    if isinstance(client, NewsClient):
        since = timezone.now().date() - dt.timedelta(days=settings.NEWSAPI_LOOKBACK_DAYS)
        return client.recent_news(customer["company_name"], domain=domain, since=since)
    raise TypeError(f"unknown client {client!r}")


def _crunchbase_permalink(customer_pk: int, domain: str) -> str:
    """The Crunchbase handle Clearbit/PDL gave, else the domain's first label."""
    for payload in ExternalRecord.objects.filter(
        customer_id=customer_pk, vendor__in=["clearbit", "peopledatalabs"], status=ExternalStatus.OK
    ).values_list("payload", flat=True):
        handle = payload_to_result("company", payload).crunchbase_handle
        if handle:
            return handle.removeprefix("organization/")
    return domain.split(".")[0] if domain else ""


def _store_answer(customer: dict[str, Any], vendor: str, result: Any, attempts: int, now: dt.datetime) -> None:
    with transaction.atomic():
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
        context_invalidate_on_commit(customer_id=customer["external_id"])


def _store_failure(customer_pk: int, vendor: str, error: str, attempts: int, *, status: str = ExternalStatus.ERROR) -> None:
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
