"""config/pg_types.py: timestamps read through the C-parsing loader equal
what Django's own loader reads, whatever their shape; ``any_of`` selects
what ``__in`` selects, with one array parameter."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import register_tzloader
from django.test.utils import CaptureQueriesContext

from config.pg_types import UtcTimestamptzLoader, any_of
from customers.models import Customer
from support.models import Ticket
from tests.customers.factories import CustomerFactory
from tests.support.factories import TicketFactory

pytestmark = pytest.mark.django_db

VALUES = [
    "2025-11-14 09:30:15.123456+00",
    "2025-11-14 09:30:15+00",
    "2025-11-14 09:30:15.1+00",
    "2025-11-14 23:59:59.999999+05:30",  # another offset in the literal: the session (UTC) writes it in UTC
    "0001-01-01 00:00:00+00",
    "9999-12-31 23:59:59.999999+00",
    "1969-07-20 20:17:40-04",
]


def read(sql: str) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return list(cursor.fetchone())


@pytest.mark.parametrize("session_zone", [None, "Europe/Paris"])
def test_timestamps_read_alike_through_both_loaders(session_zone):
    """Django's session is in UTC; in another zone (not parsed by the fast
    path) the values are whatever Django's own loader makes of them."""
    values = [value for value in VALUES if not (session_zone and value.startswith("9999"))]  # year 10000 east of UTC
    sql = "SELECT " + ", ".join(f"'{value}'::timestamptz" for value in values) + ", NULL::timestamptz"
    connection.ensure_connection()
    adapters = connection.connection.adapters
    assert adapters.get_loader(1184, 0) is UtcTimestamptzLoader  # installed on connection_created (text format)
    if session_zone:
        read(f"SELECT set_config('TimeZone', '{session_zone}', true)")
    fast = read(sql)
    register_tzloader(connection.timezone, connection.connection)  # Django's own, parsed in Python
    try:
        slow = read(sql)
    finally:
        adapters.register_loader("timestamptz", UtcTimestamptzLoader)
    assert fast == slow
    assert all(value is None or value.tzinfo is dt.UTC for value in fast)


def test_any_of_selects_what_in_selects():
    customers = CustomerFactory.create_batch(3)
    for customer in customers:
        TicketFactory(customer=customer)
    pks = [customers[0].pk, customers[2].pk, -1]
    assert set(Ticket.objects.filter(any_of("customer_id", pks)).values_list("pk", flat=True)) == set(
        Ticket.objects.filter(customer_id__in=pks).values_list("pk", flat=True)
    )
    assert set(Customer.objects.filter(any_of("pk", pks)).values_list("pk", flat=True)) == {pks[0], pks[1]}
    ids = [customers[1].external_id, "nobody"]
    assert list(Customer.objects.filter(any_of("external_id", ids)).values_list("pk", flat=True)) == [customers[1].pk]
    assert list(Customer.objects.filter(any_of("pk", []))) == []
    with CaptureQueriesContext(connection) as queries:
        list(Customer.objects.filter(any_of("pk", list(range(500)))))
    assert queries.captured_queries[0]["sql"].count("ANY(") == 1  # one array, not 500 parameters
