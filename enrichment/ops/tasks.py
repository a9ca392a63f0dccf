"""Celery tasks of the operations room (scheduled in ``CELERY_BEAT_SCHEDULE``).

============================  ==================  ==============================================
task                          default schedule    what
============================  ==================  ==============================================
verify_engagement_rollup      daily 04:15 UTC     compare the engagement rollup with the raw
                                                  events over ROLLUP_VERIFY_DAYS; repair the
                                                  drift when ROLLUP_VERIFY_FIX; store the result
                                                  for /metrics
============================  ==================  ==============================================
"""

from __future__ import annotations

import time

import structlog
from celery import shared_task
from django.conf import settings

from customers.rollup import engagement_rollup_drift_chunked, engagement_rollup_fix, rollup_chunks, rollup_customer_pks, rollup_since
from enrichment.ops.metrics import record_rollup_drift

logger = structlog.get_logger(__name__)

VERIFY_CHUNK = 1000  # customers per statement


@shared_task(name="enrichment.verify_engagement_rollup", ignore_result=True)
def verify_engagement_rollup() -> dict:
    """Verify the rollup (set-based, a statement per chunk of customers), log
    one line (a warning when there is drift), repair it when ROLLUP_VERIFY_FIX
    is on, and store the counts where every web process's /metrics reads them.
    (Log fields avoid "key": the log redacts fields that look like secrets.)"""
    started = time.time()
    since = rollup_since(days=settings.ROLLUP_VERIFY_DAYS)
    drift = engagement_rollup_drift_chunked(since=since, chunks=rollup_chunks(rollup_customer_pks(), size=VERIFY_CHUNK))
    written, unrepaired = 0, drift.keys
    if drift.keys and settings.ROLLUP_VERIFY_FIX:
        written, again = engagement_rollup_fix(drift=drift, chunk_size=VERIFY_CHUNK)
        unrepaired = again.keys
    record_rollup_drift(keys=drift.keys, customers=drift.customers, unrepaired=unrepaired, checked_at=started)
    result = {
        "since": since.isoformat() if since else None,
        "customers_checked": drift.customers_checked,
        "drift_count": drift.keys,
        "drift_customers": drift.customers,
        "missing": drift.missing,
        "extra": drift.extra,
        "wrong": drift.wrong,
        "rows_written": written,
        "unrepaired": unrepaired,
        "seconds": round(time.time() - started, 3),
    }
    (logger.warning if drift.keys else logger.info)("rollup_verified", **result, examples=[str(e) for e in drift.examples[:3]])
    return result
