"""Celery tasks of the customers app (scheduled in ``CELERY_BEAT_SCHEDULE``).

=========================  ===============  ==========================================================
task                       default schedule what
=========================  ===============  ==========================================================
maintain_event_partitions  daily 03:25 UTC  the raw events' monthly partitions made ahead, rows in the
                                            DEFAULT partition moved to their month's, and partitions
                                            older than EVENTS_RETENTION_MONTHS dropped
                                            (:mod:`customers.partitions`)
=========================  ===============  ==========================================================
"""

from __future__ import annotations

import structlog
from celery import shared_task

from customers.partitions import events_partitions_maintain

logger = structlog.get_logger(__name__)


@shared_task(name="customers.maintain_event_partitions", ignore_result=True)
def maintain_event_partitions() -> dict:
    """Run the partitions' daily maintenance and log one line (a warning when
    something could not be done: it is tried again on the next run)."""
    result = events_partitions_maintain()
    (logger.warning if result["failed"] or result["default_rows_before_cutoff"] else logger.info)("event_partitions_maintained", **result)
    return result
