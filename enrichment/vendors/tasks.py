"""Celery tasks that fetch external company data (Clearbit or People Data Labs,
Crunchbase, NewsAPI) and store it for the request path to read.

``fetch_external_enrichment(customer_id)`` checks that the customer qualifies
(selective lookups: a live subscription with MRR >= EXTERNAL_ENRICHMENT_MIN_MRR
or a plan in EXTERNAL_ENRICHMENT_PLANS), then starts one ``fetch_vendor_data``
task per configured vendor: company data, then funding (a chain: the funding
lookup uses the Crunchbase handle Clearbit returned), and news in parallel. Each
vendor task is isolated: its failures, retries and circuit are its own.

Per vendor call (:func:`enrichment.vendors.services.vendor_fetch_attempt`):
the shared circuit breaker must allow it, then the shared rate limiter; the
answer is stored with ``update_or_create`` on (customer, vendor), so a task
that runs twice (a worker killed after the call, the message redelivered)
stores nothing twice. The tasks only select (:mod:`enrichment.vendors.selectors`),
call the service and retry. Outcomes:

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

import time
from typing import Any

import structlog
from celery import chain, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from enrichment.vendors.models import ExternalStatus
from enrichment.vendors.registry import VENDORS, active_vendors
from enrichment.vendors.selectors import customer_is_eligible, vendor_customer_get
from enrichment.vendors.services import RetryLater, external_record_store_failure, vendor_fetch_attempt

logger = structlog.get_logger(__name__)

FETCH_SOFT_TIME_LIMIT = 120
FETCH_TIME_LIMIT = 150


# -- the tasks --------------------------------------------------------------------------------
@shared_task(name="enrichment.fetch_external_enrichment", bind=True, ignore_result=True)
def fetch_external_enrichment(self, customer_id: int | str, force: bool = False) -> dict[str, Any]:
    """Start the vendor lookups for one customer (a pk or an external id)."""
    customer = vendor_customer_get(customer_id=customer_id)
    if customer is None:
        return {"started": [], "skipped": "unknown customer"}
    if not customer_is_eligible(customer_pk=customer["pk"]):
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
            outcome = vendor_fetch_attempt(customer_pk=customer_pk, vendor=vendor, force=force, attempt=retries + 1)
        except SoftTimeLimitExceeded:
            _give_up(customer_pk, vendor, f"task time limit ({FETCH_SOFT_TIME_LIMIT}s) reached", retries + 1)
            return ExternalStatus.ERROR
        if not isinstance(outcome, RetryLater):
            return outcome
        if retries >= max_retries:
            _give_up(customer_pk, vendor, f"gave up after {outcome.attempts} attempt(s): {outcome.reason}", outcome.attempts)
            return ExternalStatus.ERROR
        if outcome.wait > settings.EXTERNAL_RETRY_MAX_SECONDS:
            # e.g. NewsAPI's daily budget spent: a countdown that long would outlive
            # the broker's visibility timeout; the next scheduled refresh asks again.
            _give_up(customer_pk, vendor, f"{outcome.reason} (next try in {outcome.wait:.0f}s: left to the schedule)", outcome.attempts)
            return ExternalStatus.ERROR
        if not self.request.is_eager:
            raise self.retry(countdown=max(0.0, outcome.wait), max_retries=max_retries)
        if outcome.wait > settings.EXTERNAL_EAGER_MAX_WAIT_SECONDS:
            _give_up(customer_pk, vendor, f"{outcome.reason} (not retried in-line: would wait {outcome.wait:.0f}s)", outcome.attempts)
            return ExternalStatus.ERROR
        time.sleep(max(0.0, outcome.wait))
        retries += 1


def _give_up(customer_pk: int, vendor: str, error: str, attempts: int) -> None:
    external_record_store_failure(customer_pk=customer_pk, vendor=vendor, error=error, attempts=attempts)
