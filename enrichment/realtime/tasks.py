"""Celery tasks of the real-time context (scheduled in ``CELERY_BEAT_SCHEDULE``).

============================  ==================  ==============================================
task                          default schedule    what
============================  ==================  ==============================================
fetch_product_status          every 30 s          fetch Statuspage's summary.json (when
                              (PRODUCT_STATUS_    STATUSPAGE_URL is set), then publish the
                              REFRESH_SECONDS)    incident state every process reads
============================  ==================  ==============================================

``prune_context_snapshots`` is in :mod:`enrichment.history.tasks`.
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from enrichment.realtime.product_status import product_status_refresh


@shared_task(name="enrichment.fetch_product_status", ignore_result=True, acks_late=False)
def fetch_product_status() -> dict:
    """Fetch Statuspage (if configured) and publish the merged incident state.
    A Statuspage failure keeps the last stored summary (until it goes stale)
    and still publishes our own incidents. Returns what happened."""
    return product_status_refresh(now=timezone.now())
