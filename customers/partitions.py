"""Monthly partitions of the raw events (PostgreSQL): made ahead of time, and
the retention that drops the old ones while the daily rollup keeps them.

- :func:`events_partitions_ensure` creates the partitions of this month and
  the next ``EVENTS_PARTITIONS_AHEAD`` (and from ``since``, for a backfill),
  and moves any row that landed in the DEFAULT partition into a partition of
  its own month. Idempotent; run by the maintenance task, after every
  ``migrate`` and by ``manage.py events_partitions``.
- :func:`events_retention_apply` detaches and drops the partitions wholly
  older than ``EVENTS_RETENTION_MONTHS`` full months before this one (0: keep
  everything). DETACH and DROP fire no row or statement trigger, so the
  daily rollup keeps those months: the context's figures, the churn model's
  history and the admin's charts read the rollup. Each drop is logged in
  :class:`~customers.models.EventPartitionDrop`, and the rollup's checks and
  repairs leave the days before it alone (:func:`events_raw_since`); the
  idempotency keys of events before the cutoff are dropped too, and
  ingestion refuses events that old (:func:`events_kept_since`). The
  DEFAULT partition is never dropped; rows older than the cutoff found there
  are reported, not deleted.

DDL waits at most ``LOCK_TIMEOUT`` for its locks (a partition not made or
dropped this time is reported and tried again on the next run: partitions
are made months ahead). On SQLite (a plain table) both do nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import structlog
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from customers.models import EngagementEventKey, EventPartitionDrop
from customers.partition_sql import (
    DEFAULT_PARTITION,
    TABLE,
    EventPartition,
    add_months,
    attach_partition_sql,
    is_partitioned,
    month_bounds,
    month_start,
    months_with_rows,
    partition_name,
    partitions_read,
)

logger = structlog.get_logger(__name__)

# The context reads raw events for at most the last 61 days (the windows' edges, customers.windows); this month
# and 3 full months before it are at least 89 days.
RETENTION_MIN_MONTHS = 3
LOCK_TIMEOUT = "5s"
_MAINTENANCE_LOCK = 0x0E7E_9A27  # advisory lock: one partition change at a time


# -- selectors -----------------------------------------------------------------------------------
def events_partitioned() -> bool:
    """Whether the events table is partitioned here (PostgreSQL after migration 0010)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        return is_partitioned(cursor)


def events_partitions() -> list[EventPartition]:
    """The events table's partitions, oldest month first, the DEFAULT partition last ([] when not partitioned)."""
    if not events_partitioned():
        return []
    with connection.cursor() as cursor:
        return partitions_read(cursor)


def events_raw_since() -> dt.datetime | None:
    """From when the raw events are complete: the end of the latest partition
    the retention dropped (None: nothing was ever dropped). The daily rollup
    holds the days before it on its own."""
    return EventPartitionDrop.objects.aggregate(end=Max("range_end"))["end"]


def events_retention_cutoff(*, now: dt.datetime, months: int) -> dt.datetime:
    """The first instant kept: ``months`` full UTC months before the month of ``now``."""
    return month_bounds(add_months(month_start(now), -months))[0]


def events_kept_since(*, now: dt.datetime) -> dt.datetime | None:
    """The oldest instant an event may have to be stored: the retention's
    cutoff when it is on (PostgreSQL), else None (no limit here). Older events
    would go to a month already dropped, and their ids to keys already dropped."""
    months = settings.EVENTS_RETENTION_MONTHS
    if months <= 0 or connection.vendor != "postgresql":
        return None
    return events_retention_cutoff(now=now, months=max(months, RETENTION_MIN_MONTHS))


# -- services ------------------------------------------------------------------------------------
@contextmanager
def _ddl(cursor) -> Iterator[None]:
    """One partition change: a transaction holding the maintenance lock, whose
    lock waits end after LOCK_TIMEOUT (restored afterwards, also when nested
    in an outer transaction)."""
    with transaction.atomic():
        cursor.execute("SELECT current_setting('lock_timeout')")
        previous = cursor.fetchone()[0]
        cursor.execute("SELECT set_config('lock_timeout', %s, true), pg_advisory_xact_lock(%s)", [LOCK_TIMEOUT, _MAINTENANCE_LOCK])
        yield
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])


@dataclass(frozen=True, slots=True)
class PartitionsEnsured:
    created: tuple[str, ...] = ()
    moved_rows: int = 0  # rows moved out of the DEFAULT partition into their month's
    failed: tuple[str, ...] = ()  # not made this time (a lock not had in time, an overlapping partition)


def _partition_add(cursor, month: dt.date) -> int | None:
    """Create and attach one month's partition, moving its rows out of the
    DEFAULT partition; the rows moved, or None when it exists already."""
    with _ddl(cursor):
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [partition_name(month)])
        if cursor.fetchone()[0]:
            return None
        # Writers routed to the DEFAULT partition wait from here, so none of the month's rows is left behind.
        cursor.execute(f"LOCK TABLE {DEFAULT_PARTITION} IN ACCESS EXCLUSIVE MODE")
        moved = 0
        for sql in attach_partition_sql(month, move_from_default=True):
            cursor.execute(sql)
            if sql.startswith("WITH moved"):
                moved = cursor.rowcount
        return moved


def events_partitions_ensure(
    *, now: dt.datetime | None = None, since: dt.date | dt.datetime | None = None, ahead: int | None = None
) -> PartitionsEnsured:
    """Make sure a partition exists for every month from ``since``'s (default:
    this month) to ``ahead`` months after this one (default
    ``EVENTS_PARTITIONS_AHEAD``), and for every month with rows in the DEFAULT
    partition, whose rows move there. Idempotent, safe to run concurrently."""
    if not events_partitioned():
        return PartitionsEnsured()
    this_month = month_start(now or timezone.now())
    first = min(month_start(since), this_month) if since else this_month
    last = add_months(this_month, settings.EVENTS_PARTITIONS_AHEAD if ahead is None else ahead)
    wanted, month = set(), first
    while month <= last:
        wanted.add(month)
        month = add_months(month, 1)
    with connection.cursor() as cursor:
        have = {p.month for p in partitions_read(cursor)}
        wanted |= set(months_with_rows(cursor, DEFAULT_PARTITION))
        created, moved, failed = [], 0, []
        for month in sorted(wanted - have):
            try:
                rows = _partition_add(cursor, month)
            except DatabaseError as exc:
                failed.append(partition_name(month))
                logger.warning("event_partition_not_created", partition=partition_name(month), error=str(exc).strip())
                continue
            if rows is not None:
                created.append(partition_name(month))
                moved += rows
    if created:
        logger.info("event_partitions_created", partitions=created, moved_rows=moved)
    return PartitionsEnsured(tuple(created), moved, tuple(failed))


@dataclass(frozen=True, slots=True)
class RetentionApplied:
    cutoff: dt.datetime | None = None  # None: retention off
    dropped: tuple[str, ...] = ()
    rows: int = 0  # events in the partitions dropped
    failed: tuple[str, ...] = ()
    default_rows_before_cutoff: int = 0  # left in the DEFAULT partition, reported
    keys: int = 0  # idempotency keys of events before the cutoff, dropped


def _partition_drop(cursor, partition: EventPartition) -> int:
    cursor.execute(f"SELECT count(*) FROM {partition.name}")
    rows = cursor.fetchone()[0]
    with _ddl(cursor):
        cursor.execute(f"ALTER TABLE {TABLE} DETACH PARTITION {partition.name}")
        cursor.execute(f"DROP TABLE {partition.name}")
        EventPartitionDrop.objects.create(name=partition.name, range_start=partition.start, range_end=partition.end, rows=rows)
    return rows


def events_retention_apply(*, now: dt.datetime | None = None, months: int | None = None) -> RetentionApplied:
    """Detach and drop every partition whose whole range is older than
    ``months`` (default ``EVENTS_RETENTION_MONTHS``; 0: nothing) full UTC
    months before this one. A partition that could hold a row inside the
    retention is never dropped, nor the DEFAULT partition: its rows older
    than the cutoff are counted and logged (the next
    :func:`events_partitions_ensure` moves them to a partition of their own)."""
    months = settings.EVENTS_RETENTION_MONTHS if months is None else months
    if months <= 0 or not events_partitioned():
        return RetentionApplied()
    if months < RETENTION_MIN_MONTHS:
        raise ValueError(f"EVENTS_RETENTION_MONTHS must be 0 (keep everything) or at least {RETENTION_MIN_MONTHS}, not {months}")
    cutoff = events_retention_cutoff(now=now or timezone.now(), months=months)
    dropped, failed, total = [], [], 0
    with connection.cursor() as cursor:
        for partition in partitions_read(cursor):
            if partition.is_default or partition.end is None or partition.end > cutoff:
                continue
            try:
                total += _partition_drop(cursor, partition)
            except DatabaseError as exc:
                failed.append(partition.name)
                logger.warning("event_partition_not_dropped", partition=partition.name, error=str(exc).strip())
                continue
            dropped.append(partition.name)
        cursor.execute(f"SELECT count(*) FROM {DEFAULT_PARTITION} WHERE occurred_at < %s", [cutoff])
        stray = cursor.fetchone()[0]
    keys = _keys_prune(before=cutoff)
    if stray:
        logger.warning("event_default_partition_has_old_rows", rows=stray, cutoff=cutoff.isoformat())
    if dropped or keys:
        logger.info("event_partitions_dropped", partitions=dropped, rows=total, keys=keys, cutoff=cutoff.isoformat())
    return RetentionApplied(cutoff, tuple(dropped), total, tuple(failed), stray, keys)


KEYS_PRUNE_BATCH = 50_000


def _keys_prune(*, before: dt.datetime) -> int:
    """Drop the idempotency keys of events older than ``before`` (their months
    are dropped, and ingestion refuses events that old), a batch per statement."""
    table = EngagementEventKey._meta.db_table
    pruned = 0
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                f"DELETE FROM {table} WHERE event_id IN (SELECT event_id FROM {table} WHERE occurred_at < %s LIMIT %s)",
                [before, KEYS_PRUNE_BATCH],
            )
            pruned += cursor.rowcount
            if cursor.rowcount < KEYS_PRUNE_BATCH:
                return pruned


def events_partitions_maintain(*, now: dt.datetime | None = None) -> dict:
    """The daily maintenance: partitions ahead (and the DEFAULT partition's
    rows moved out), then the retention. A summary for the log."""
    now = now or timezone.now()
    ensured = events_partitions_ensure(now=now)
    retention = events_retention_apply(now=now)
    return {
        "created": list(ensured.created),
        "moved_rows": ensured.moved_rows,
        "dropped": list(retention.dropped),
        "dropped_rows": retention.rows,
        "dropped_keys": retention.keys,
        "cutoff": retention.cutoff.isoformat() if retention.cutoff else None,
        "failed": list(ensured.failed + retention.failed),
        "default_rows_before_cutoff": retention.default_rows_before_cutoff,
    }
