"""Checking and repairing the daily engagement rollup against the raw events.

``EngagementDaily`` must hold, for every (customer, UTC day of ``occurred_at``,
kind, feature), the number of ``EngagementEvent`` rows. This module finds where
it does not (the selector :func:`engagement_rollup_drift`: one set-based
statement per chunk of customers, the grouped events and the rollup rows in a
``UNION ALL`` grouped by key, which is their symmetric difference and runs the
same on PostgreSQL and SQLite) and repairs exactly the drifted customer-days
with :func:`customers.services.engagement_rollup_rebuild` (the service
:func:`engagement_rollup_repair`). ``manage.py rollup_verify`` /
``rollup_rebuild`` and the nightly verify task are thin callers.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Count, DateField, DateTimeField, Max, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, TruncDate

from customers.models import Customer, EngagementDaily, EngagementEvent, EventPartitionDrop
from customers.services import engagement_rollup_rebuild

EXAMPLES = 10  # drifted keys kept as examples


@dataclass(frozen=True, slots=True)
class DriftExample:
    """One (customer, day, kind, feature) whose rollup count is wrong."""

    customer_id: int
    external_id: str
    day: dt.date
    kind: str
    feature: str
    expected: int  # events counted from the raw table
    stored: int | None  # the rollup's count; None when the row is missing

    @property
    def problem(self) -> str:
        if self.stored is None:
            return "missing"
        return "extra" if self.expected == 0 else "wrong"

    def __str__(self) -> str:
        stored = "-" if self.stored is None else self.stored
        return f"{self.external_id} {self.day} {self.kind}:{self.feature or '-'} events={self.expected} rollup={stored} ({self.problem})"


@dataclass(frozen=True, slots=True)
class RollupDrift:
    """Where the rollup differs from the events, over the customers checked
    from ``since`` (a UTC date; None: all history)."""

    since: dt.date | None
    customers_checked: int = 0
    missing: int = 0  # keys with events but no rollup row
    extra: int = 0  # rollup rows without any event
    wrong: int = 0  # both, with different counts
    customer_days: frozenset[tuple[int, dt.date]] = frozenset()
    examples: tuple[DriftExample, ...] = ()

    @property
    def keys(self) -> int:
        """Drifted (customer, day, kind, feature) keys."""
        return self.missing + self.extra + self.wrong

    @property
    def customers(self) -> int:
        return len({customer for customer, _day in self.customer_days})

    @property
    def customer_pks(self) -> list[int]:
        return sorted({customer for customer, _day in self.customer_days})

    def merge(self, other: RollupDrift) -> RollupDrift:
        return RollupDrift(
            since=self.since,
            customers_checked=self.customers_checked + other.customers_checked,
            missing=self.missing + other.missing,
            extra=self.extra + other.extra,
            wrong=self.wrong + other.wrong,
            customer_days=self.customer_days | other.customer_days,
            examples=(self.examples + other.examples)[:EXAMPLES],
        )


# -- selectors -----------------------------------------------------------------------------------
def rollup_since(*, days: int, today: dt.date | None = None) -> dt.date | None:
    """The first UTC day of "the last ``days`` days" (today included); 0: all history."""
    if days <= 0:
        return None
    today = today or dt.datetime.now(dt.UTC).date()
    return today - dt.timedelta(days=days - 1)


def rollup_customer_pks(*, external_ids: Sequence[str] | None = None, sample: int | None = None) -> list[int]:
    """The customers to check or rebuild, in pk order: those external ids
    (unknown ones raise ``Customer.DoesNotExist`` naming them), a random sample
    of ``sample`` customers, or everyone."""
    if external_ids:
        found = dict(Customer.objects.filter(external_id__in=list(external_ids)).values_list("external_id", "pk"))
        unknown = sorted(set(external_ids) - found.keys())
        if unknown:
            raise Customer.DoesNotExist(f"unknown customers: {', '.join(unknown[:20])}")
        return sorted(found.values())
    pks = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    if sample is not None and sample < len(pks):
        pks = sorted(random.sample(pks, sample))
    return pks


def rollup_chunks(pks: Sequence[int], *, size: int) -> Iterator[list[int]]:
    for start in range(0, len(pks), size):
        yield list(pks[start : start + size])


# Where the raw events begin when the retention dropped some (customers.partitions.events_raw_since), read by the
# statement itself: the rollup is the only record of the days before, with nothing to compare it with.
_RAW_SINCE = EventPartitionDrop.objects.order_by("-range_end")
_EVER = dt.datetime(1, 1, 1, tzinfo=dt.UTC)


def _grouped_events(since: dt.date | None, customer_pks: Sequence[int] | None) -> QuerySet:
    kept = Coalesce(Subquery(_RAW_SINCE.values("range_end")[:1]), Value(_EVER), output_field=DateTimeField())
    events = EngagementEvent.objects.filter(occurred_at__gte=kept)
    if customer_pks is not None:
        events = events.filter(customer_id__in=list(customer_pks))
    if since is not None:
        events = events.filter(occurred_at__gte=dt.datetime.combine(since, dt.time.min, tzinfo=dt.UTC))
    return (
        events.annotate(day=TruncDate("occurred_at", tzinfo=dt.UTC))
        .values("customer_id", "day", "kind", "feature")
        .annotate(n=Count("id"))
        .order_by()
    )


def _rollup_rows(since: dt.date | None, customer_pks: Sequence[int] | None) -> QuerySet:
    first = _RAW_SINCE.annotate(first=TruncDate("range_end", tzinfo=dt.UTC)).values("first")[:1]
    rows = EngagementDaily.objects.filter(day__gte=Coalesce(Subquery(first), Value(_EVER.date()), output_field=DateField()))
    if customer_pks is not None:
        rows = rows.filter(customer_id__in=list(customer_pks))
    if since is not None:
        rows = rows.filter(day__gte=since)
    return rows.values("customer_id", "day", "kind", "feature", "count").order_by()


def _sql(queryset: QuerySet) -> tuple[str, tuple]:
    return queryset.query.get_compiler(using=queryset.db).as_sql()


def _drift_statement(since: dt.date | None, customer_pks: Sequence[int] | None) -> tuple[str, tuple]:
    """One statement: every key where the grouped events and the rollup differ
    (a rollup row without events is drift even with a count of 0), with
    (expected, stored count, rollup rows), in key order."""
    events_sql, events_params = _sql(_grouped_events(since, customer_pks))
    rollup_sql, rollup_params = _sql(_rollup_rows(since, customer_pks))
    sql = f"""
        SELECT customer_id, day, kind, feature, SUM(expected), SUM(stored), SUM(rollup_rows)
        FROM (
            SELECT e.customer_id, e.day, e.kind, e.feature, e.n AS expected, 0 AS stored, 0 AS rollup_rows
            FROM ({events_sql}) e
            UNION ALL
            SELECT r.customer_id, r.day, r.kind, r.feature, 0, r.count, 1
            FROM ({rollup_sql}) r
        ) keyed
        GROUP BY customer_id, day, kind, feature
        HAVING SUM(expected) <> SUM(stored) OR SUM(expected) = 0
        ORDER BY customer_id, day, kind, feature
    """
    return sql, (*events_params, *rollup_params)


def _as_date(value: dt.date | str) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def engagement_rollup_drift(*, since: dt.date | None, customer_pks: Sequence[int] | None = None) -> RollupDrift:
    """Compare the rollup with the raw events of these customers (None: all of
    them) from ``since`` (a UTC date; None: all history, as far as the raw
    events are kept: the days before a partition the retention dropped are
    left out). One statement, read in a single snapshot on PostgreSQL; the
    rows it returns are the drift only."""
    if customer_pks is not None and not customer_pks:
        return RollupDrift(since)
    sql, params = _drift_statement(since, customer_pks)
    counts = {"missing": 0, "extra": 0, "wrong": 0}
    customer_days: set[tuple[int, dt.date]] = set()
    raw_examples: list[tuple] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(5000):
            for customer_id, day, kind, feature, expected, stored, rollup_rows in rows:
                day = _as_date(day)
                problem = "missing" if not rollup_rows else "extra" if not expected else "wrong"
                counts[problem] += 1
                customer_days.add((customer_id, day))
                if len(raw_examples) < EXAMPLES:
                    raw_examples.append((customer_id, day, kind, feature, int(expected), int(stored) if rollup_rows else None))
    checked = len(customer_pks) if customer_pks is not None else Customer.objects.count()
    external_ids = dict(Customer.objects.filter(pk__in={row[0] for row in raw_examples}).order_by().values_list("pk", "external_id"))
    examples = tuple(DriftExample(row[0], external_ids.get(row[0], "?"), *row[1:]) for row in raw_examples)
    return RollupDrift(since, checked, customer_days=frozenset(customer_days), examples=examples, **counts)


def engagement_rollup_drift_chunked(*, since: dt.date | None, chunks: Iterable[Sequence[int]]) -> RollupDrift:
    """:func:`engagement_rollup_drift` over chunks of customers (one statement
    each), merged. ``chunks`` may be wrapped in a progress bar."""
    drift = RollupDrift(since)
    for chunk in chunks:
        drift = drift.merge(engagement_rollup_drift(since=since, customer_pks=chunk))
    return drift


def engagement_rollup_days(*, since: dt.date) -> list[dt.date]:
    """Every UTC day from ``since`` to the last day holding an event or a rollup
    row (at least tomorrow: ingestion accepts events up to an hour ahead)."""
    last = max(since, dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1))
    last_event = EngagementEvent.objects.aggregate(last=Max("occurred_at"))["last"]
    last_row = EngagementDaily.objects.filter(day__gt=last).aggregate(last=Max("day"))["last"]
    if last_event is not None:
        last = max(last, last_event.astimezone(dt.UTC).date())
    if last_row is not None:
        last = max(last, last_row)
    return [since + dt.timedelta(days=n) for n in range((last - since).days + 1)]


def engagement_rollup_rows(*, since: dt.date | None, customer_pks: Sequence[int]) -> tuple[int, int]:
    """(rollup rows stored, rollup rows the events give) for these customers
    from ``since``: what a rebuild would replace and write."""
    return _rollup_rows(since, customer_pks).count(), _grouped_events(since, customer_pks).count()


# -- services ------------------------------------------------------------------------------------
def _repair_groups(customer_days: frozenset[tuple[int, dt.date]]) -> list[tuple[list[int], list[dt.date]]]:
    """The drifted customer-days as (customers, days) rectangles covering them
    exactly: customers sharing the same drifted days, or days sharing the same
    drifted customers, whichever needs fewer rebuilds."""
    days_of: dict[int, set[dt.date]] = defaultdict(set)
    customers_of: dict[dt.date, set[int]] = defaultdict(set)
    for customer, day in customer_days:
        days_of[customer].add(day)
        customers_of[day].add(customer)
    by_days: dict[frozenset, list[int]] = defaultdict(list)
    for customer, days in days_of.items():
        by_days[frozenset(days)].append(customer)
    by_customers: dict[frozenset, list[dt.date]] = defaultdict(list)
    for day, customers in customers_of.items():
        by_customers[frozenset(customers)].append(day)
    if len(by_days) <= len(by_customers):
        return [(sorted(customers), sorted(days)) for days, customers in by_days.items()]
    return [(sorted(customers), sorted(days)) for customers, days in by_customers.items()]


@transaction.atomic
def engagement_rollup_repair(*, drift: RollupDrift) -> int:
    """Rebuild exactly the drifted customer-days from the raw events, in one
    transaction. Returns the number of rollup rows written."""
    written = 0
    for customer_ids, days in _repair_groups(drift.customer_days):
        written += engagement_rollup_rebuild(customer_ids=customer_ids, days=days)
    return written


def engagement_rollup_fix(*, drift: RollupDrift, chunk_size: int = 1000) -> tuple[int, RollupDrift]:
    """Repair the drift (one transaction), then verify the repaired customers
    again: (rollup rows written, the drift left, normally none)."""
    written = engagement_rollup_repair(drift=drift)
    again = engagement_rollup_drift_chunked(since=drift.since, chunks=rollup_chunks(drift.customer_pks, size=chunk_size))
    return written, again
