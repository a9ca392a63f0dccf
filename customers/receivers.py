"""Signal receivers of the customers app (connected in ``CustomersConfig.ready``)."""

from __future__ import annotations

import structlog
from django.db import DatabaseError

from customers.partitions import events_partitions_ensure

logger = structlog.get_logger(__name__)


def event_partitions_after_migrate(sender, *, using: str = "default", **kwargs) -> None:
    """After every ``migrate``: the raw events' partitions for this month and
    the coming ones (idempotent; a lock not had in time is logged, and the
    daily maintenance task tries again)."""
    if using != "default":
        return
    try:
        events_partitions_ensure()
    except DatabaseError as exc:  # e.g. the table is not there yet: migrated backwards to zero
        logger.warning("event_partitions_not_ensured", error=str(exc).strip())
