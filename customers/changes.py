"""Reads and writes of the change log the database keeps
(:class:`customers.models.CustomerDataChange`, filled by triggers: see
:mod:`customers.triggers`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import connection, transaction

from customers.models import CustomerDataChange
from customers.triggers import CHANNEL

__all__ = ["CHANNEL", "data_changes_claim", "data_changes_delete", "data_changes_pending", "data_changes_record"]


def data_changes_record(*, external_ids: Sequence[str], source: str) -> int:
    """Record, as the triggers do, that these customers' derived data must be
    refreshed: for a change no trigger sees (data outside the captured tables,
    an invalidation that could not reach the cache). Durable once committed;
    on PostgreSQL the listeners are notified when it commits. Returns the rows written."""
    rows = CustomerDataChange.objects.bulk_create(
        [CustomerDataChange(external_id=external_id, source=source[:63]) for external_id in dict.fromkeys(external_ids)]
    )
    if rows and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, '')", [CHANNEL])
    return len(rows)


def data_changes_claim(*, limit: int) -> list[tuple[int, str]]:
    """The oldest pending changes as ``(id, external_id)``, locked for the
    current transaction. On PostgreSQL rows another consumer holds are
    skipped, so several consumers share the work without waiting."""
    if not transaction.get_connection().in_atomic_block:
        raise transaction.TransactionManagementError("data_changes_claim must run inside a transaction")
    rows = CustomerDataChange.objects.order_by("id")
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True)
    return list(rows.values_list("id", "external_id")[:limit])


def data_changes_delete(*, ids: Sequence[int]) -> int:
    """Forget changes that have been acted on."""
    deleted, _ = CustomerDataChange.objects.filter(id__in=list(ids)).delete()
    return deleted


def data_changes_pending() -> tuple[int, dt.datetime | None]:
    """How many changes wait, and since when (for metrics and readiness)."""
    rows = CustomerDataChange.objects.order_by("id").values_list("changed_at", flat=True)
    oldest = rows.first()
    return (rows.count() if oldest is not None else 0), oldest
