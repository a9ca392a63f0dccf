"""SQL of the raw events' monthly partitions (PostgreSQL), for migration 0010
and the partition services (:mod:`customers.partitions`).

``customers_engagementevent`` is partitioned by range of ``occurred_at``: one
partition per UTC calendar month, named ``customers_engagementevent_pYYYY_MM``
and holding ``[first instant of the month, first instant of the next)``, plus
the DEFAULT partition ``customers_engagementevent_default`` for any row no
monthly partition takes (an event far in the past or the future is stored
there, never refused; the maintenance moves it to a partition of its own).

Triggers (the daily rollup, change capture) are on the partitioned table and
fire for every statement addressed to it; a statement addressed to one
partition by name is outside them (the moves below rely on that: rows moved
between partitions are already counted). Write to the parent table.

No model imports here: the migration calls these functions.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

TABLE = "customers_engagementevent"
DEFAULT_PARTITION = f"{TABLE}_default"
SEQUENCE = f"{TABLE}_id_seq"
COLUMNS = "id, customer_id, contact_id, kind, feature, occurred_at, event_id"

# Names of the parent's indexes and constraints (the model's Meta, and the primary key Django names).
PRIMARY_KEY = f"{TABLE}_pkey"
EVENT_UNIQUE = "event_id_occurred_at_unique"
INDEXES = (
    f"ALTER TABLE {TABLE} ADD CONSTRAINT {PRIMARY_KEY} PRIMARY KEY (id, occurred_at)",
    f"CREATE UNIQUE INDEX {EVENT_UNIQUE} ON {TABLE} (event_id, occurred_at) WHERE event_id IS NOT NULL",
    f"CREATE INDEX event_customer_time_idx ON {TABLE} (customer_id, occurred_at) INCLUDE (kind, feature)",
    f"CREATE INDEX event_time_idx ON {TABLE} (occurred_at)",
    f"CREATE INDEX event_contact_time_idx ON {TABLE} (contact_id, occurred_at)",
)


def month_start(instant: dt.datetime | dt.date) -> dt.date:
    """The first day of the UTC month holding ``instant`` (a date is taken as is)."""
    if isinstance(instant, dt.datetime):
        instant = instant.astimezone(dt.UTC).date()
    return instant.replace(day=1)


def add_months(month: dt.date, months: int) -> dt.date:
    """``month`` (a first day) moved by ``months`` calendar months."""
    index = month.year * 12 + month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The instants ``[start, end)`` of a UTC month."""
    start = dt.datetime.combine(month, dt.time.min, tzinfo=dt.UTC)
    return start, dt.datetime.combine(add_months(month, 1), dt.time.min, tzinfo=dt.UTC)


def partition_name(month: dt.date) -> str:
    return f"{TABLE}_p{month.year:04d}_{month.month:02d}"


def _literal(instant: dt.datetime) -> str:
    """A timestamptz literal for a partition bound (DDL takes no parameters; the value is ours, not input)."""
    return f"'{instant.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S}+00'"


def bounds_sql(month: dt.date) -> str:
    start, end = month_bounds(month)
    return f"FOR VALUES FROM ({_literal(start)}) TO ({_literal(end)})"


def create_partition_sql(month: dt.date) -> str:
    """A monthly partition created directly (the migration, holding the table's lock anyway)."""
    return f"CREATE TABLE {partition_name(month)} PARTITION OF {TABLE} {bounds_sql(month)}"


def create_default_sql() -> str:
    return f"CREATE TABLE {DEFAULT_PARTITION} PARTITION OF {TABLE} DEFAULT"


def attach_partition_sql(month: dt.date, *, move_from_default: bool) -> list[str]:
    """A monthly partition added to the live table: built apart, filled with
    the month's rows from the DEFAULT partition when asked, then attached.
    ATTACH takes a SHARE UPDATE EXCLUSIVE lock on the table (reads and writes
    go on), ACCESS EXCLUSIVE on the DEFAULT partition, and builds the new
    partition's indexes. The move deletes from and inserts into partitions
    by name, outside the table's triggers: the rollup has counted these rows."""
    name = partition_name(month)
    start, end = month_bounds(month)
    statements = [f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS)"]
    if move_from_default:
        statements.append(
            f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION} WHERE occurred_at >= {_literal(start)} AND occurred_at < {_literal(end)}"
            f" RETURNING {COLUMNS}) INSERT INTO {name} ({COLUMNS}) SELECT {COLUMNS} FROM moved"
        )
    statements.append(f"ALTER TABLE {TABLE} ATTACH PARTITION {name} {bounds_sql(month)}")
    return statements


def is_partitioned(cursor) -> bool:
    cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [TABLE])
    row = cursor.fetchone()
    return bool(row) and row[0] == "p"


@dataclass(frozen=True, slots=True)
class EventPartition:
    """A partition as the catalog describes it: a month's range, the DEFAULT
    partition (no range), or a range this module did not make (``month`` None)."""

    name: str
    start: dt.datetime | None
    end: dt.datetime | None
    is_default: bool
    estimated_rows: int

    @property
    def month(self) -> dt.date | None:
        if self.start is None or self.end is None:
            return None
        month = month_start(self.start)
        return month if month_bounds(month) == (self.start, self.end) else None


_BOUND = re.compile(r"FOR VALUES FROM \('([^']+)'\) TO \('([^']+)'\)")


def _instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


def partitions_read(cursor) -> list[EventPartition]:
    """The partitions of the events table, oldest range first, the DEFAULT partition last."""
    cursor.execute(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid), greatest(c.reltuples, 0)::bigint"
        " FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(%s)",
        [TABLE],
    )
    rows = []
    for name, bound, estimate in cursor.fetchall():
        found = _BOUND.fullmatch(bound or "")
        start, end = (_instant(found[1]), _instant(found[2])) if found else (None, None)
        rows.append(EventPartition(name, start, end, bound == "DEFAULT", int(estimate)))
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted(rows, key=lambda row: (row.is_default, row.start or far, row.name))


def months_with_rows(cursor, relation: str) -> list[dt.date]:
    """The UTC months holding rows of ``relation``, by a walk from month to
    month on its ``occurred_at`` index (one probe per month with rows, not a
    scan). Rows beyond what a Python date holds, or at +-infinity, stay put."""
    cursor.execute(
        f"""
        WITH RECURSIVE m(month) AS (
            SELECT date_trunc('month', min(occurred_at), 'UTC') FROM {relation}
            WHERE occurred_at >= '0001-01-01 00:00:00+00' AND occurred_at < '9999-12-01 00:00:00+00'
          UNION ALL
            SELECT (SELECT date_trunc('month', min(e.occurred_at), 'UTC') FROM {relation} e
                    WHERE e.occurred_at >= ((m.month AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC'
                      AND e.occurred_at < '9999-12-01 00:00:00+00')
            FROM m WHERE m.month IS NOT NULL
        )
        SELECT (month AT TIME ZONE 'UTC')::date FROM m WHERE month IS NOT NULL
        """
    )
    return [row[0] for row in cursor.fetchall()]
