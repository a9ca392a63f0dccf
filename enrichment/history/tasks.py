"""Celery tasks of the context history (scheduled in ``CELERY_BEAT_SCHEDULE``;
found by Celery's autodiscovery of the ``enrichment_history`` app).

============================  ==================  ==============================================
task                          default schedule    what
============================  ==================  ==============================================
prune_context_snapshots       daily 03:40 UTC     delete context snapshots older than
                                                  CONTEXT_SNAPSHOT_RETENTION_DAYS
============================  ==================  ==============================================

The daily health snapshot (``snapshot_health_daily``) is scheduled with the
context refreshes in :mod:`enrichment.engine.tasks`.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from enrichment.history.services import context_snapshots_prune


@shared_task(name="enrichment.prune_context_snapshots", ignore_result=True)
def prune_context_snapshots() -> int:
    """Delete snapshots older than the retention (keeping each customer's
    latest one, so the changes API always has a baseline)."""
    return context_snapshots_prune(now=timezone.now(), retention_days=settings.CONTEXT_SNAPSHOT_RETENTION_DAYS)
