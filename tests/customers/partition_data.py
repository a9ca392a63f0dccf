"""Months of event history over several partitions, for the retention tests
(tests/customers/test_partition_retention.py, tests/enrichment/engine/test_event_retention.py)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.db import connection

from customers.models import Contact, Customer, EngagementDaily, EngagementEvent
from customers.partitions import events_partitions_ensure
from tests.customers.factories import ContactFactory, CustomerFactory

DAY = dt.timedelta(days=1)
FEATURES = ("reports", "tasks", "exports")


@dataclass(frozen=True)
class History:
    busy: Customer  # something every day for 300 days
    lapsed: Customer  # logins until 200 days ago, a little API use lately
    fresh: Customer  # the last 20 days only
    busy_contact: Contact
    lapsed_contact: Contact
    lapsed_last_login: dt.datetime


def history(now: dt.datetime) -> History:
    """Create the three accounts' events (partitions made first) and make the
    deferred foreign-key checks run now: a partition with pending trigger
    events cannot be detached in the same transaction."""
    events_partitions_ensure(since=now - 320 * DAY)
    busy, lapsed, fresh = CustomerFactory(external_id="busy"), CustomerFactory(external_id="lapsed"), CustomerFactory(external_id="fresh")
    busy_contact, lapsed_contact = ContactFactory(customer=busy), ContactFactory(customer=lapsed)
    rows = []
    for d in range(300):
        day = now - d * DAY
        rows.append(EngagementEvent(customer=busy, contact=busy_contact, kind="login", occurred_at=day.replace(hour=9, minute=d % 60)))
        if d % 2:
            at = day - 5 * dt.timedelta(hours=1)
            rows.append(EngagementEvent(customer=busy, kind="feature_use", feature=FEATURES[d % 3], occurred_at=at))
        if d % 7 == 0:
            rows.append(EngagementEvent(customer=busy, kind="error", occurred_at=day - dt.timedelta(minutes=d)))
    lapsed_last_login = (now - 200 * DAY).replace(hour=14, minute=32, second=5, microsecond=0)
    for d in range(200, 290, 3):
        rows.append(EngagementEvent(customer=lapsed, contact=lapsed_contact, kind="login", occurred_at=lapsed_last_login - (d - 200) * DAY))
    rows += [EngagementEvent(customer=lapsed, kind="api_call", occurred_at=now - d * 4 * DAY) for d in range(1, 25)]
    rows += [EngagementEvent(customer=fresh, kind=("login", "feature_use")[d % 2], feature=("", "tasks")[d % 2],
                             occurred_at=now - d * dt.timedelta(hours=11)) for d in range(40)]  # fmt: skip
    EngagementEvent.objects.bulk_create(rows)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    return History(busy, lapsed, fresh, busy_contact, lapsed_contact, lapsed_last_login)


def rollup_rows() -> Counter:
    rows = EngagementDaily.objects.values_list("customer_id", "day", "kind", "feature", "count")
    return Counter({(c, day, kind, feature): n for c, day, kind, feature, n in rows})
