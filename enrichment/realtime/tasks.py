"""Celery tasks of the real-time context (scheduled in ``CELERY_BEAT_SCHEDULE``).

============================  ==================  ==============================================
task                          default schedule    what
============================  ==================  ==============================================
fetch_product_status          every 30 s          fetch Statuspage's summary.json (when
                              (PRODUCT_STATUS_    STATUSPAGE_URL is set), then publish the
                              REFRESH_SECONDS)    incident state every process reads
prune_context_snapshots       daily 03:40 UTC     delete context snapshots older than
                                                  CONTEXT_SNAPSHOT_RETENTION_DAYS
============================  ==================  ==============================================
"""

from __future__ import annotations

import datetime as dt

import structlog
from celery import shared_task
from django.conf import settings
from django.utils import timezone

logger = structlog.get_logger(__name__)


@shared_task(name="enrichment.fetch_product_status", ignore_result=True, acks_late=False)
def fetch_product_status() -> dict:
    """Fetch Statuspage (if configured) and publish the merged incident state.
    A Statuspage failure keeps the last stored summary (until it goes stale)
    and still publishes our own incidents. Returns what happened."""
    from enrichment.ops.metrics import record_vendor_outcome
    from enrichment.realtime.product_status import StatuspageError, product_status_publish, statuspage_fetch
    from enrichment.vendors.http import VendorError

    result = {"statuspage": "not_configured"}
    summary = None
    fetched = False
    if settings.STATUSPAGE_URL:
        try:
            summary = statuspage_fetch(now=timezone.now())
            fetched = True
            result["statuspage"] = "ok"
        except (VendorError, StatuspageError) as exc:
            result["statuspage"] = "error"
            logger.warning("statuspage_fetch_failed", error=type(exc).__name__, detail=str(exc)[:200])
        record_vendor_outcome("statuspage", result["statuspage"])
    state = product_status_publish(statuspage=summary, fetched=fetched)
    result.update(version=state["version"], incidents=len(state["incidents"]))
    return result


@shared_task(name="enrichment.prune_context_snapshots", ignore_result=True)
def prune_context_snapshots() -> int:
    """Delete snapshots older than the retention (keeping each customer's
    latest one, so the changes API always has a baseline)."""
    from django.db.models import Max

    from enrichment.history.models import ContextSnapshot

    days = settings.CONTEXT_SNAPSHOT_RETENTION_DAYS
    if days <= 0:
        return 0
    cutoff = timezone.now() - dt.timedelta(days=days)
    latest = ContextSnapshot.objects.values("customer_id").annotate(last=Max("created_at")).filter(last__lt=cutoff).values("last")
    deleted, _ = ContextSnapshot.objects.filter(created_at__lt=cutoff).exclude(created_at__in=latest).delete()
    logger.info("context_snapshots_pruned", deleted=deleted)
    return deleted
