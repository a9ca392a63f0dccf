"""Writes for the customers app."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import psycopg
from django.db import OperationalError, connection, transaction
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from customers.models import Contact, Customer, EngagementDaily, EngagementEvent, EngagementEventKey
from customers.partitions import events_kept_since, events_raw_since
from customers.recent_activity import RecentEvent, recent_events_record
from customers.signals import customer_data_changed


@transaction.atomic
def engagement_rollup_rebuild(*, customer_ids: Iterable[int], days: Iterable[dt.date] | None = None) -> int:
    """Recompute the daily engagement rollup from the raw events: a repair
    (``rollup_verify --fix``); the database's triggers keep it otherwise.

    For the given customers, and only the given days when ``days`` is passed
    (else their whole history), the rollup rows are deleted and rebuilt with one
    set-based ``INSERT ... SELECT``-style pass. Idempotent: running it twice gives
    the same rows. Returns the number of rollup rows written.

    Days before :func:`~customers.partitions.events_raw_since` (months whose
    raw events the retention dropped) are left as they are: the rollup is
    their only record.
    """
    customer_ids = sorted(set(customer_ids))
    if not customer_ids:
        return 0
    day_list = sorted(set(days)) if days is not None else None
    raw_since = events_raw_since()

    stale = EngagementDaily.objects.filter(customer_id__in=customer_ids)
    events = EngagementEvent.objects.filter(customer_id__in=customer_ids)
    if raw_since is not None:
        stale = stale.filter(day__gte=raw_since.date())
        events = events.filter(occurred_at__gte=raw_since)
        if day_list is not None:
            day_list = [day for day in day_list if day >= raw_since.date()]
    if day_list == []:
        return 0
    if day_list is not None:
        stale = stale.filter(day__in=day_list)
        start = dt.datetime.combine(day_list[0], dt.time.min, tzinfo=dt.UTC)
        end = dt.datetime.combine(day_list[-1] + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
        events = events.filter(occurred_at__gte=start, occurred_at__lt=end)
    stale.delete()

    grouped = (
        events.annotate(day=TruncDate("occurred_at", tzinfo=dt.UTC))
        .values("customer_id", "day", "kind", "feature")
        .annotate(n=Count("id"))
        .order_by()
    )
    wanted = set(day_list) if day_list is not None else None
    rows = [
        EngagementDaily(
            customer_id=row["customer_id"],
            day=row["day"],
            kind=row["kind"],
            feature=row["feature"] or "",
            count=row["n"],
        )
        for row in grouped.iterator(chunk_size=5000)
        if wanted is None or row["day"] in wanted
    ]
    EngagementDaily.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


@dataclass(frozen=True, slots=True)
class EventInput:
    event_id: str
    customer_id: str  # the customer's external id
    kind: str
    occurred_at: dt.datetime
    feature: str = ""
    contact_email: str | None = None


@dataclass(frozen=True, slots=True)
class IngestResult:
    received: int
    created: int
    duplicates: int
    customer_ids: tuple[str, ...]


class UnknownCustomers(ValueError):
    def __init__(self, customer_ids: list[str]):
        self.customer_ids = customer_ids
        super().__init__(f"unknown customer ids: {', '.join(customer_ids[:20])}")


class EventsBeforeRetention(ValueError):
    """Events older than the raw events kept (``EVENTS_RETENTION_MONTHS``):
    their month is dropped, and so are the keys that would recognise a retry."""

    def __init__(self, event_ids: list[str], kept_since: dt.datetime):
        self.event_ids, self.kept_since = event_ids, kept_since
        super().__init__(f"events before {kept_since:%Y-%m-%d} (the retention): {', '.join(event_ids[:20])}")


INGEST_ATTEMPTS = 3  # a deadlock broken by PostgreSQL is retried (ingestion is idempotent)


def engagement_events_ingest(*, events: Sequence[EventInput]) -> IngestResult:
    """Store a batch of product events, idempotently by ``event_id``.

    All or nothing: an unknown customer id, or an event older than the months
    of raw events the retention keeps (:class:`EventsBeforeRetention`),
    rejects the batch before anything is written. Events already stored (same
    ``event_id``, whatever their ``occurred_at``) are skipped, and the
    database decides which: the ids are claimed in the ledger of stored ids
    (:class:`~customers.models.EngagementEventKey`: ``INSERT ... ON CONFLICT
    (event_id) DO NOTHING RETURNING``, a racing claim of the same id waits for
    the first to commit or roll back), and only the claimed events are
    inserted, so ``created`` and ``duplicates`` are exact even when producers
    race with the same or overlapping batches. (The events table, partitioned
    by month on PostgreSQL, can only hold ``(event_id, occurred_at)`` unique.)
    Inside one batch the first of an ``event_id`` is kept. The database counts the
    new events in the daily rollup (triggers, see ``customers/migrations/0004``
    and ``0007``); after the transaction commits they are added to the live view
    of the last minutes (:mod:`customers.recent_activity`) and the customers'
    contexts are invalidated. A deadlock between racing transactions (which
    PostgreSQL breaks by failing one of them) is retried: ingestion is idempotent.
    """
    attempt = 1
    while True:
        try:
            return _ingest_once(events=events)
        except OperationalError as exc:
            if attempt >= INGEST_ATTEMPTS or not isinstance(exc.__cause__, psycopg.errors.DeadlockDetected):
                raise
            attempt += 1


_EVENT_COLUMNS = ("event_id", "customer_id", "contact_id", "kind", "feature", "occurred_at")


@transaction.atomic
def _ingest_once(*, events: Sequence[EventInput]) -> IngestResult:
    if not events:
        return IngestResult(0, 0, 0, ())
    kept_since = events_kept_since(now=timezone.now())
    if kept_since is not None and (old := sorted(e.event_id for e in events if e.occurred_at < kept_since)):
        raise EventsBeforeRetention(old, kept_since)
    wanted = {e.customer_id for e in events}
    pks = dict(Customer.objects.filter(external_id__in=wanted).values_list("external_id", "pk"))
    unknown = sorted(wanted - pks.keys())
    if unknown:
        raise UnknownCustomers(unknown)
    emails = {e.contact_email.lower() for e in events if e.contact_email}
    contacts = dict(Contact.objects.filter(email__in=emails).values_list("email", "pk")) if emails else {}
    unique: dict[str, EventInput] = {}
    for event in events:
        unique.setdefault(event.event_id, event)
    stored = _events_insert(
        [
            (e.event_id, pks[e.customer_id], contacts.get((e.contact_email or "").lower()), e.kind, e.feature or "", e.occurred_at)
            for e in unique.values()
        ]
    )
    fresh = [e for e in unique.values() if e.event_id in stored]
    if fresh:  # the live view of the last minutes (Redis), once the events are committed
        live = [
            RecentEvent(
                pks[e.customer_id], e.kind, e.feature or "", contacts.get((e.contact_email or "").lower()), e.occurred_at, e.event_id
            )
            for e in fresh
        ]
        transaction.on_commit(lambda: recent_events_record(events=live))
        customer_data_changed.send(sender=EngagementEvent, customer_ids=sorted({e.customer_id for e in fresh}))
    return IngestResult(
        received=len(events),
        created=len(fresh),
        duplicates=len(events) - len(fresh),
        customer_ids=tuple(sorted({e.customer_id for e in fresh})),
    )


def _events_insert(rows: list[tuple]) -> set[str]:
    """Claim the rows' ids in the ledger of stored ids, then insert the rows
    claimed, two statements in ``event_id`` order (racing batches with
    overlapping ids then wait for each other rather than deadlock); returns
    the ``event_id`` of the rows stored. The insert's own ``ON CONFLICT``
    covers a writer that stored the same event without the ledger's claim,
    between the two (its trigger records the id, ON CONFLICT DO NOTHING)."""
    if not rows:
        return set()
    rows = sorted(rows, key=lambda row: row[0])
    adapt = connection.ops.adapt_datetimefield_value
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(EngagementEventKey._meta.db_table)} (event_id, occurred_at) VALUES "
            + ", ".join(["(%s, %s)"] * len(rows))
            + " ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
            [value for row in rows for value in (row[0], adapt(row[5]))],
        )
        claimed = {row[0] for row in cursor.fetchall()}
        rows = [row for row in rows if row[0] in claimed]
        if not rows:
            return set()
        cursor.execute(
            f"INSERT INTO {quote(EngagementEvent._meta.db_table)} ({', '.join(_EVENT_COLUMNS)}) VALUES "
            + ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(rows))
            + " ON CONFLICT (event_id, occurred_at) WHERE event_id IS NOT NULL DO NOTHING RETURNING event_id",
            [value for row in rows for value in (*row[:5], adapt(row[5]))],
        )
        return {row[0] for row in cursor.fetchall()}
