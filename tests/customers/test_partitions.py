"""The raw events table partitioned by month (PostgreSQL, customers/partitions.py):
every writer's rows land in their month's partition (or the DEFAULT one, never
refused), the rollup and change-capture triggers fire across partitions, the
ingestion stays idempotent, and making partitions is idempotent."""

from __future__ import annotations

import datetime as dt
import threading
from io import StringIO

import psycopg
import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from customers import partitions
from customers.models import CustomerDataChange, EngagementEvent, EngagementEventKey
from customers.partition_sql import DEFAULT_PARTITION, add_months, month_start, partition_name
from customers.partitions import events_partitions, events_partitions_ensure
from customers.receivers import event_partitions_after_migrate
from customers.services import EventInput, engagement_events_ingest
from tests.customers.factories import CustomerFactory
from tests.customers.rollup_counts import brute_force, rollup

DAY = dt.timedelta(days=1)


def where(pk: int) -> str:
    """The partition holding the event ``pk``."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM customers_engagementevent WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def home(at: dt.datetime) -> str:
    return partition_name(month_start(at))


def other_connection() -> psycopg.Connection:
    s = connection.settings_dict
    return psycopg.connect(dbname=s["NAME"], user=s["USER"], host=s["HOST"], port=s["PORT"], autocommit=True)


@pytest.mark.django_db
def test_the_table_is_partitioned_by_month_with_the_partition_key_in_every_unique_constraint():
    events_partitions_ensure()
    found = events_partitions()
    this_month = month_start(timezone.now())
    assert {add_months(this_month, n) for n in range(4)} <= {p.month for p in found}  # this month and EVENTS_PARTITIONS_AHEAD more
    assert found[-1].is_default and found[-1].name == DEFAULT_PARTITION
    assert all(p.month is not None for p in found[:-1])  # each a whole UTC month
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT contype, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = 'customers_engagementevent'::regclass AND contype IN ('p', 'u') ORDER BY contype"
        )
        assert cursor.fetchall() == [("p", "PRIMARY KEY (id, occurred_at)")]
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'event_id_occurred_at_unique'")
        assert cursor.fetchone()[0].endswith("(event_id, occurred_at) WHERE (event_id IS NOT NULL)")


@pytest.mark.django_db
def test_orm_writes_land_in_their_months_partition_and_keep_working():
    customer = CustomerFactory()
    now = timezone.now()
    events_partitions_ensure(since=now - 120 * DAY)
    one = EngagementEvent.objects.create(customer=customer, kind="login", occurred_at=now - 40 * DAY)
    many = EngagementEvent.objects.bulk_create(
        [EngagementEvent(customer=customer, kind="feature_use", feature="reports", occurred_at=now - 11 * i * DAY) for i in range(10)]
    )
    assert all(e.pk for e in many) and len({e.pk for e in [one, *many]}) == 11
    for event in [one, *many]:
        assert where(event.pk) == home(event.occurred_at)
    # save(), refresh_from_db() and delete() address a row by id alone: the primary key is (id, occurred_at)
    one.occurred_at = now - 100 * DAY
    one.save()
    one.refresh_from_db()
    assert where(one.pk) == home(now - 100 * DAY) != home(now - 40 * DAY)
    many[0].delete()
    assert EngagementEvent.objects.filter(customer=customer).count() == 10
    assert rollup(customer) == brute_force(customer)


@pytest.mark.django_db(transaction=True)
def test_raw_sql_from_another_connection_lands_in_its_partition_and_far_times_are_stored():
    customer = CustomerFactory()
    now = timezone.now()
    events_partitions_ensure(since=now - 70 * DAY)
    times = [now - 65 * DAY, now - 3 * DAY, dt.datetime(1999, 7, 4, 12, tzinfo=dt.UTC), dt.datetime(2300, 1, 1, tzinfo=dt.UTC)]
    with other_connection() as other:
        other.cursor().executemany(
            "INSERT INTO customers_engagementevent (customer_id, kind, feature, occurred_at) VALUES (%s, 'login', '', %s)",
            [(customer.pk, at) for at in times],
        )
    stored = dict(EngagementEvent.objects.filter(customer=customer).values_list("occurred_at", "pk"))
    assert set(stored) == set(times)
    assert [where(stored[at]) for at in times] == [home(times[0]), home(times[1]), DEFAULT_PARTITION, DEFAULT_PARTITION]
    assert rollup(customer) == brute_force(customer) and sum(rollup(customer).values()) == 4
    assert CustomerDataChange.objects.filter(external_id=customer.external_id, source="customers_engagementevent").exists()

    made = events_partitions_ensure()  # the DEFAULT partition's rows go to partitions of their own months
    assert {"customers_engagementevent_p1999_07", "customers_engagementevent_p2300_01"} <= set(made.created)
    assert made.moved_rows == 2 and made.failed == ()
    assert [where(stored[at]) for at in times] == [home(at) for at in times]
    assert rollup(customer) == brute_force(customer) and sum(rollup(customer).values()) == 4  # moved, not counted again
    assert events_partitions_ensure() == partitions.PartitionsEnsured()  # idempotent
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE customers_engagementevent_p1999_07, customers_engagementevent_p2300_01")


@pytest.mark.django_db
def test_rollup_triggers_fire_across_partitions_and_an_update_moves_a_row_between_months():
    customer, other = CustomerFactory(), CustomerFactory()
    now = timezone.now()
    events_partitions_ensure(since=now - 100 * DAY)
    EngagementEvent.objects.bulk_create(
        [EngagementEvent(customer=customer, kind=("login", "feature_use")[i % 2], feature=("", "tasks")[i % 2],
                         occurred_at=now - i * 2 * DAY) for i in range(45)]
    )  # fmt: skip
    assert len({where(pk) for pk in EngagementEvent.objects.filter(customer=customer).values_list("pk", flat=True)}) >= 3
    old = EngagementEvent.objects.filter(customer=customer, occurred_at__lt=now - 60 * DAY)
    moved = list(old.values_list("pk", flat=True)[:5])
    EngagementEvent.objects.filter(pk__in=moved).update(occurred_at=now - DAY)  # across months: rows change partition
    assert {where(pk) for pk in moved} == {home(now - DAY)}
    assert rollup(customer) == brute_force(customer)
    EngagementEvent.objects.filter(customer=customer, kind="feature_use").update(kind="api_call", feature="")
    EngagementEvent.objects.filter(customer=customer, occurred_at__lt=now - 50 * DAY).update(customer=other)
    EngagementEvent.objects.filter(customer=customer, occurred_at__gt=now - 10 * DAY).delete()
    assert rollup(customer) == brute_force(customer) and rollup(other) == brute_force(other)
    assert sum(rollup(customer).values()) + sum(rollup(other).values()) == EngagementEvent.objects.count() == 35


@pytest.mark.django_db
def test_ingestion_is_idempotent_across_months_whatever_the_time_a_retry_carries():
    customer = CustomerFactory()
    now = timezone.now()
    events_partitions_ensure(since=now - 100 * DAY)
    batch = [EventInput(f"evt-{i}", customer.external_id, "login", now - i * 9 * DAY) for i in range(12)]
    first = engagement_events_ingest(events=batch)
    assert (first.created, first.duplicates) == (12, 0)
    assert len({where(pk) for pk in EngagementEvent.objects.filter(customer=customer).values_list("pk", flat=True)}) >= 4
    again = engagement_events_ingest(events=list(reversed(batch)) + batch[:3])  # a retry, in another order, with repeats
    assert (again.created, again.duplicates) == (0, 15)
    # a client that stamps the time again when it retries, even into another month: still the same event
    moved = [EventInput(e.event_id, e.customer_id, e.kind, e.occurred_at - 40 * DAY) for e in batch[:5]]
    assert engagement_events_ingest(events=moved).duplicates == 5
    assert EngagementEvent.objects.filter(customer=customer).count() == 12
    keys = EngagementEventKey.objects.filter(event_id__startswith="evt-").values_list("event_id", flat=True)
    assert set(keys) == {e.event_id for e in batch}
    assert rollup(customer) == brute_force(customer)


@pytest.mark.django_db
def test_the_ledger_of_event_ids_follows_every_writer():
    customer = CustomerFactory()
    now = timezone.now()
    with connection.cursor() as cursor:  # a writer outside the ingestion, with ids of its own
        cursor.execute(
            "INSERT INTO customers_engagementevent (customer_id, kind, feature, occurred_at, event_id)"
            " VALUES (%s, 'login', '', %s, 'raw-1'), (%s, 'login', '', %s, NULL)",
            [customer.pk, now - DAY, customer.pk, now - 2 * DAY],
        )
    assert set(EngagementEventKey.objects.values_list("event_id", flat=True)) >= {"raw-1"}
    retried = engagement_events_ingest(events=[EventInput("raw-1", customer.external_id, "login", now)])
    assert (retried.created, retried.duplicates) == (0, 1)  # the ingestion knows it
    EngagementEvent.objects.filter(event_id="raw-1").delete()  # deleting an event frees its id
    assert not EngagementEventKey.objects.filter(event_id="raw-1").exists()
    assert engagement_events_ingest(events=[EventInput("raw-1", customer.external_id, "login", now)]).created == 1
    with pytest.raises(IntegrityError), transaction.atomic():  # the same event twice, by any writer
        EngagementEvent.objects.create(customer=customer, kind="login", occurred_at=now, event_id="raw-1")


@pytest.mark.django_db(transaction=True)
def test_racing_producers_store_each_event_once_in_whichever_month():
    customer = CustomerFactory()
    now = timezone.now()
    events_partitions_ensure(since=now - 100 * DAY)
    shared = [EventInput(f"shared-{i}", customer.external_id, "login", now - i * 7 * DAY - dt.timedelta(minutes=i)) for i in range(14)]
    created, errors = [], []

    def producer(n: int, barrier: threading.Barrier) -> None:
        try:
            own = [EventInput(f"p{n}-{i}", customer.external_id, "feature_use", now - i * 13 * DAY, feature="tasks") for i in range(6)]
            barrier.wait(timeout=30)
            created.append(engagement_events_ingest(events=own + shared[n % 5 :] + shared[: n % 5]).created)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    barrier = threading.Barrier(6)
    threads = [threading.Thread(target=producer, args=(n, barrier)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    stored = list(EngagementEvent.objects.filter(customer=customer).values_list("event_id", flat=True))
    assert len(stored) == len(set(stored)) == 6 * 6 + 14 == sum(created)
    assert rollup(customer) == brute_force(customer)


@pytest.mark.django_db
def test_making_partitions_is_idempotent_and_runs_after_migrate():
    now = timezone.now()
    far = add_months(month_start(now), 6)
    first = events_partitions_ensure(ahead=6)
    assert partition_name(far) in {p.name for p in events_partitions()}
    assert partition_name(far) in first.created or first.created == ()  # made now, or by an earlier run
    assert events_partitions_ensure(ahead=6) == partitions.PartitionsEnsured()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {partition_name(add_months(month_start(now), 2))}")
    event_partitions_after_migrate(sender=None)  # the post_migrate receiver (apps.py)
    assert partition_name(add_months(month_start(now), 2)) in {p.name for p in events_partitions()}


@pytest.mark.django_db(transaction=True)
def test_a_partition_not_made_in_time_is_reported_and_made_on_the_next_run(monkeypatch):
    """DDL waits at most LOCK_TIMEOUT: a long reader of the DEFAULT partition delays it to the next run."""
    monkeypatch.setattr(partitions, "LOCK_TIMEOUT", "200ms")
    month = add_months(month_start(timezone.now()), 9)
    with other_connection() as other:
        other.autocommit = False
        other.execute(f"SELECT count(*) FROM {DEFAULT_PARTITION}")  # holds a lock until it ends
        missed = events_partitions_ensure(ahead=9)
        other.rollback()
    assert partition_name(month) in missed.failed and partition_name(month) not in missed.created
    assert partition_name(month) not in {p.name for p in events_partitions()}
    made = events_partitions_ensure(ahead=9)
    assert partition_name(month) in made.created and made.failed == ()
    for n in range(4, 10):
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {partition_name(add_months(month_start(timezone.now()), n))}")


@pytest.mark.django_db
def test_the_command_lists_and_makes_partitions():
    out = StringIO()
    call_command("events_partitions", "--ensure", "--since", "2024-02", stdout=out)
    text = out.getvalue()
    assert text.startswith("created ") and "customers_engagementevent_p2024_02" in text and "DEFAULT" in text
    assert "customers_engagementevent_p2024_02" in {p.name for p in events_partitions()}
