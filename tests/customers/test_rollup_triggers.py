"""The database keeps the daily engagement rollup exact, whoever writes the
events: ``save()``, ``bulk_create``, ``update()``, ``delete()``, raw SQL from
another connection, ``TRUNCATE`` (customers/migrations/0004)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import psycopg
import pytest
from django.db import connection

from customers.models import EngagementDaily, EngagementEvent
from tests.customers.factories import CustomerFactory
from tests.customers.rollup_counts import brute_force, rollup

T0 = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


def events(customer, n: int, *, kind: str = "login", feature: str = "", start: dt.datetime = T0, step_hours: int = 5):
    return [
        EngagementEvent(customer=customer, kind=kind, feature=feature, occurred_at=start - dt.timedelta(hours=step_hours * i))
        for i in range(n)
    ]


@pytest.mark.django_db
def test_bulk_create_is_counted():
    customer = CustomerFactory()
    EngagementEvent.objects.bulk_create(events(customer, 40) + events(customer, 7, kind="feature_use", feature="reports"))
    assert rollup(customer) == brute_force(customer)
    assert sum(rollup(customer).values()) == 47


@pytest.mark.django_db
def test_queryset_update_moves_counts_between_days_kinds_and_features():
    customer = CustomerFactory()
    EngagementEvent.objects.bulk_create(events(customer, 30) + events(customer, 10, kind="feature_use", feature="tasks"))
    EngagementEvent.objects.filter(customer=customer, kind="login", occurred_at__gte=T0 - dt.timedelta(days=2)).update(
        occurred_at=T0 - dt.timedelta(days=20)
    )
    EngagementEvent.objects.filter(customer=customer, feature="tasks").update(feature="reports")
    EngagementEvent.objects.filter(customer=customer, kind="nothing").update(kind="error")  # no row: no change
    first = EngagementEvent.objects.filter(customer=customer, kind="login").order_by("pk").first()
    EngagementEvent.objects.filter(pk=first.pk).update(kind="error")
    assert rollup(customer) == brute_force(customer)
    assert not EngagementDaily.objects.filter(customer=customer, feature="tasks").exists()


@pytest.mark.django_db
def test_saving_an_event_on_another_day_counts_it_once():
    customer = CustomerFactory()
    event = EngagementEvent.objects.create(customer=customer, kind="login", occurred_at=T0)
    event.occurred_at = T0 - dt.timedelta(days=3)
    event.save()
    event.contact = None
    event.save()  # nothing the rollup counts changed
    assert rollup(customer) == Counter({((T0 - dt.timedelta(days=3)).date(), "login", ""): 1})


@pytest.mark.django_db
def test_delete_single_and_bulk_uncounts_and_removes_empty_rows():
    customer = CustomerFactory()
    EngagementEvent.objects.bulk_create(events(customer, 25))
    EngagementEvent.objects.filter(customer=customer).order_by("pk").first().delete()
    EngagementEvent.objects.filter(customer=customer, occurred_at__lt=T0 - dt.timedelta(days=2)).delete()
    assert rollup(customer) == brute_force(customer)
    EngagementEvent.objects.filter(customer=customer).delete()
    assert not EngagementDaily.objects.filter(customer=customer).exists()


@pytest.mark.django_db
def test_a_drifted_rollup_never_blocks_deleting_events():
    customer = CustomerFactory()
    EngagementEvent.objects.bulk_create(events(customer, 3, step_hours=1))
    EngagementDaily.objects.filter(customer=customer).update(count=1)  # drift from before the triggers
    EngagementEvent.objects.filter(customer=customer).delete()
    assert not EngagementDaily.objects.filter(customer=customer).exists()


@pytest.mark.django_db
def test_moving_an_event_to_another_customer_moves_its_count():
    alice, bob = CustomerFactory(), CustomerFactory()
    EngagementEvent.objects.bulk_create(events(alice, 4))
    moved = EngagementEvent.objects.filter(customer=alice).order_by("pk").values_list("pk", flat=True)[:2]
    EngagementEvent.objects.filter(pk__in=list(moved)).update(customer=bob)
    assert rollup(alice) == brute_force(alice)
    assert rollup(bob) == brute_force(bob)
    assert sum(rollup(bob).values()) == 2


@pytest.mark.django_db(transaction=True)
def test_raw_sql_from_another_connection_is_counted():
    """Another service writing to the same database over its own connection."""
    customer = CustomerFactory()
    settings = connection.settings_dict
    with psycopg.connect(dbname=settings["NAME"], user=settings["USER"], host=settings["HOST"], port=settings["PORT"],
                         autocommit=True) as other:  # fmt: skip
        other.execute(
            "INSERT INTO customers_engagementevent (customer_id, kind, feature, occurred_at)"
            " SELECT %s, 'feature_use', 'exports', %s - g * interval '7 hours' FROM generate_series(1, 500) AS g",
            (customer.pk, T0),
        )
        other.execute("UPDATE customers_engagementevent SET kind = 'api_call' WHERE customer_id = %s AND id %% 3 = 0", (customer.pk,))
        other.execute(
            "UPDATE customers_engagementevent SET occurred_at = occurred_at + interval '13 hours'"
            " WHERE customer_id = %s AND id %% 5 = 0",
            (customer.pk,),
        )
        other.execute("DELETE FROM customers_engagementevent WHERE customer_id = %s AND id %% 7 = 0", (customer.pk,))
    assert rollup(customer) == brute_force(customer)
    assert sum(rollup(customer).values()) == EngagementEvent.objects.filter(customer=customer).count()


@pytest.mark.django_db(transaction=True)
def test_truncating_the_events_empties_the_rollup():
    customer = CustomerFactory()
    EngagementEvent.objects.bulk_create(events(customer, 5))
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE customers_engagementevent")
    assert not EngagementDaily.objects.exists()
