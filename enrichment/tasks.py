"""Celery tasks of the enrichment app.

With ``CELERY_TASK_ALWAYS_EAGER`` (the embedded default and the tests) ``.delay``
runs the task in the caller's process; with a broker it runs on a worker.
``refresh_contexts`` is what the admin's "Refresh contexts" action queues.
"""

from __future__ import annotations

from celery import shared_task

# The external-data fetch tasks and the beat tasks live in their own modules;
# importing them here lets Celery's autodiscovery (which imports
# ``<app>.tasks``) register them.
from enrichment.external_tasks import fetch_external_enrichment, fetch_vendor_data  # noqa: F401
from enrichment.realtime_tasks import fetch_product_status, prune_context_snapshots  # noqa: F401
from enrichment.refresh import contexts_refresh
from enrichment.scheduled_tasks import (  # noqa: F401
    refresh_active_contexts,
    refresh_context_batch,
    refresh_renewing_contexts,
    refresh_stale_external_data,
    snapshot_health_daily,
)


@shared_task(name="enrichment.refresh_contexts", ignore_result=False)
def refresh_contexts(customer_ids: list[str]) -> int:
    """Force-refresh the contexts of these external ids; returns how many succeeded."""
    return contexts_refresh(customer_ids=list(customer_ids))
