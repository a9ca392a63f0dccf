"""The context's reads of the partitioned events touch the partitions of their
months only, also in the generic plan a prepared statement keeps
(customers.windows.within_months): however many monthly partitions there are,
a cold context reads and locks the same few. (The last login's probes are
pruned as they run: the day they read comes from the rollup, in the same
statement; customers.last_login.)"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from customers.models import EngagementEvent
from customers.partition_sql import month_start, partition_name
from customers.partitions import events_partitions, events_partitions_ensure
from customers.selectors import _window_rows
from customers.windows import Window, split, utc_day, within_months
from tests.customers.factories import ContactFactory, CustomerFactory

DAY = dt.timedelta(days=1)


def _literal(value) -> str:
    return str(value) if isinstance(value, int) else "'" + str(value).replace("'", "''") + "'"


def generic_plan_partitions(queryset) -> set[str]:
    """The event partitions in the generic plan of ``queryset`` as a prepared
    statement, all pruned when it was planned: none left to prune when it runs
    (run-time pruning would lock every partition on each call first)."""
    sql, params = queryset.query.get_compiler(using="default").as_sql()
    parts = sql.split("%s")
    numbered = parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], start=1))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute(f"PREPARE partition_probe AS {numbered}")
        cursor.execute(f"EXPLAIN EXECUTE partition_probe({', '.join(_literal(p) for p in params)})")
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("DEALLOCATE partition_probe")
    assert "Subplans Removed" not in plan, plan
    return set(re.findall(r"customers_engagementevent_(?:p\d{4}_\d{2}|default)", plan))


@pytest.mark.django_db
def test_the_context_statements_plan_only_the_partitions_of_their_months():
    now = timezone.now()
    events_partitions_ensure(since=now - 400 * DAY, ahead=24)
    assert len(events_partitions()) >= 40
    customer = CustomerFactory()
    contact = ContactFactory(customer=customer)
    cut, today = split(now), utc_day(now)

    window = _window_rows(Q(customer_id=customer.pk), cut, cut.edge_days)
    assert generic_plan_partitions(window) == {partition_name(month_start(day)) for day in cut.edge_days}

    last_30 = Window(now - 30 * DAY, now)
    requester = EngagementEvent.objects.filter(
        last_30.q("occurred_at"), within_months("occurred_at", utc_day(last_30.start), today), contact_id=contact.pk
    ).values_list("kind")
    assert generic_plan_partitions(requester) == {partition_name(month_start(now - 30 * DAY)), partition_name(month_start(now))}
