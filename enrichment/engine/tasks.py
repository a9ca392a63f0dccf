"""Tasks run by Celery beat (``CELERY_BEAT_SCHEDULE`` in settings).

Each selects its customers with one set-based query, then refreshes them in
chunks through the engine (``contexts_refresh``: each provider runs once per
chunk of up to ``REFRESH_CHUNK`` customers), one
``refresh_context_batch`` task per chunk so a big selection spreads over the
workers of the ``refresh`` queue.

============================  ==================  ==============================================
task                          default schedule    what
============================  ==================  ==============================================
refresh_active_contexts       every 15 minutes    customers with product activity in the last
                                                  CONTEXT_REFRESH_ACTIVE_DAYS day(s)
refresh_renewing_contexts     hourly at :05       live subscriptions renewing or ending their
                                                  trial within CONTEXT_REFRESH_RENEWAL_DAYS
refresh_stale_external_data   hourly at :20       eligible customers whose vendor data is older
                                                  than EXTERNAL_DATA_TTL_HOURS (or missing)
snapshot_health_daily         daily 23:50 UTC     every customer's latest health into the history
apply_context_changes         every minute        invalidate customers whose data changed (a
                                                  backstop for ``context_changes_listen``)
============================  ==================  ==============================================
"""

from __future__ import annotations

import datetime as dt

import structlog
from celery import shared_task
from django.conf import settings
from django.utils import timezone

from billing.selectors import customer_external_ids_renewing
from customers.selectors import customer_external_ids_active
from enrichment.context.exceptions import ContextUnavailable
from enrichment.engine.changes import context_changes_apply
from enrichment.engine.services import contexts_refresh
from enrichment.history.services import health_daily_snapshot
from enrichment.vendors.selectors import stale_external_customers
from enrichment.vendors.tasks import fetch_external_enrichment

logger = structlog.get_logger(__name__)

REFRESH_CHUNK = 500


# -- refresh ---------------------------------------------------------------------------------
def _fan_out(customer_ids: list[str], reason: str) -> int:
    for start in range(0, len(customer_ids), REFRESH_CHUNK):
        refresh_context_batch.delay(customer_ids[start : start + REFRESH_CHUNK])
    (logger.info if customer_ids else logger.debug)("contexts_refresh_scheduled", reason=reason, customers=len(customer_ids))
    return len(customer_ids)


# The database unreachable: try again later, with backoff, a few times.
_RETRY = {"autoretry_for": (ContextUnavailable,), "retry_backoff": 5, "retry_backoff_max": 300, "max_retries": 5}


@shared_task(name="enrichment.refresh_context_batch", ignore_result=True, **_RETRY)
def refresh_context_batch(customer_ids: list[str]) -> int:
    return contexts_refresh(customer_ids=list(customer_ids))


@shared_task(name="enrichment.refresh_active_contexts", ignore_result=True)
def refresh_active_contexts() -> int:
    """Beat: recompute the contexts of recently active customers."""
    ids = customer_external_ids_active(today=timezone.localdate(), days=settings.CONTEXT_REFRESH_ACTIVE_DAYS)
    return _fan_out(ids, "active")


@shared_task(name="enrichment.refresh_renewing_contexts", ignore_result=True)
def refresh_renewing_contexts() -> int:
    """Beat: recompute the contexts of customers renewing (or ending a trial) soon."""
    ids = customer_external_ids_renewing(today=timezone.localdate(), days=settings.CONTEXT_REFRESH_RENEWAL_DAYS)
    return _fan_out(ids, "renewing")


@shared_task(name="enrichment.refresh_stale_external_data", ignore_result=True)
def refresh_stale_external_data() -> int:
    """Beat: start vendor lookups for eligible customers whose data is stale or
    missing (at most EXTERNAL_REFRESH_BATCH per run; the rest next run)."""
    pks = stale_external_customers()
    for pk in pks:
        fetch_external_enrichment.delay(pk)
    (logger.info if pks else logger.debug)("external_refresh_scheduled", customers=len(pks))
    return len(pks)


@shared_task(name="enrichment.snapshot_health_daily", ignore_result=True)
def snapshot_health_daily(day: str | None = None) -> int:
    """Beat: copy every customer's latest health into the daily history."""
    return health_daily_snapshot(day=dt.date.fromisoformat(day) if day else timezone.localdate())


@shared_task(name="enrichment.refresh_contexts", ignore_result=False, **_RETRY)
def refresh_contexts(customer_ids: list[str]) -> int:
    """Force-refresh the contexts of these external ids; returns how many succeeded."""
    return contexts_refresh(customer_ids=list(customer_ids))


# -- invalidation from any writer ----------------------------------------------------------------
@shared_task(name="enrichment.apply_context_changes", ignore_result=True)
def apply_context_changes() -> int:
    """Backstop for the change listener: act on any change it has not."""
    applied = context_changes_apply()
    if applied:
        logger.info("context_changes_applied", customers=applied, by="beat")
    return applied
