"""Migration 0010 converts a populated events table: every row kept with its
id, one partition per month holding rows (however far in the past or the
future), the rollup not counted twice, the id sequence continuing, triggers,
constraints and foreign keys in place; and back to a plain table."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from customers.models import CustomerDataChange, EngagementDaily, EngagementEvent, EngagementEventKey
from customers.partition_sql import DEFAULT_PARTITION, month_start, partition_name
from customers.partitions import events_partitioned, events_partitions
from tests.customers.factories import CustomerFactory

BEFORE = [("customers", "0009_contact_db_defaults")]
DAY = dt.timedelta(days=1)


def migrate(target=None) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target or executor.loader.graph.leaf_nodes())


def fetch(sql: str, params=None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def stored() -> set[tuple]:
    return set(fetch("SELECT id, customer_id, contact_id, kind, feature, occurred_at, event_id FROM customers_engagementevent"))


def rollup() -> Counter:
    return Counter({row[:4]: row[4] for row in EngagementDaily.objects.values_list("customer_id", "day", "kind", "feature", "count")})


@pytest.mark.django_db(transaction=True)
def test_a_populated_table_is_partitioned_and_unpartitioned_again():
    try:
        migrate(BEFORE)
        assert not events_partitioned()
        customer = CustomerFactory()
        now = timezone.now()
        times = [now - d * 7 * DAY for d in range(100)] + [dt.datetime(1990, 5, 17, tzinfo=dt.UTC), dt.datetime(2250, 3, 1, tzinfo=dt.UTC)]
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO customers_engagementevent (customer_id, kind, feature, occurred_at, event_id) VALUES (%s, %s, '', %s, %s)",
                [(customer.pk, ("login", "api_call")[n % 2], at, f"evt-{n}" if n % 3 else None) for n, at in enumerate(times)],
            )
            cursor.execute("DELETE FROM customers_engagementevent WHERE id = (SELECT max(id) FROM customers_engagementevent)")
        rows, counted = stored(), rollup()
        next_id = max(row[0] for row in rows) + 2  # the deleted last id is not given again
        assert sum(counted.values()) == len(rows) == 101

        migrate()

        assert events_partitioned() and stored() == rows and rollup() == counted
        keys = set(EngagementEventKey.objects.values_list("event_id", flat=True))
        assert keys == {row[6] for row in rows if row[6]} and len(keys) > 60  # the ledger of ids, filled from the events
        months = {month_start(row[5]) for row in rows}
        found = {p.name: p for p in events_partitions()}
        assert {partition_name(m) for m in months} <= set(found)  # 1990 and 2250 included
        assert fetch(f"SELECT count(*) FROM {DEFAULT_PARTITION}") == [(0,)]
        assert fetch("SELECT count(DISTINCT tableoid) FROM customers_engagementevent") == [(len(months),)]
        fks = fetch("SELECT conname FROM pg_constraint WHERE conrelid = 'customers_engagementevent'::regclass AND contype = 'f'")
        assert len(fks) == 2
        CustomerDataChange.objects.all().delete()
        new = EngagementEvent.objects.create(customer=customer, kind="login", occurred_at=now)
        assert new.pk == next_id
        assert rollup() - counted == Counter({(customer.pk, now.astimezone(dt.UTC).date(), "login", ""): 1})
        assert CustomerDataChange.objects.filter(source="customers_engagementevent").exists()
        rows = stored()

        migrate(BEFORE)

        assert not events_partitioned() and stored() == rows
        assert fetch("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'customers_engagementevent_event_id_key'") == [
            ("UNIQUE (event_id)",)
        ]
        again = "INSERT INTO customers_engagementevent (customer_id, kind, feature, occurred_at) VALUES (%s, 'login', '', now())"
        again += " RETURNING id"
        assert fetch(again, [customer.pk]) == [(next_id + 1,)]  # the identity continues where the sequence was
    finally:
        migrate()
    assert events_partitioned()
