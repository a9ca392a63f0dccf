"""The daily rollup of a customer, and the same counts by brute force from the raw events."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from customers.models import EngagementDaily, EngagementEvent


def rollup(customer) -> Counter:
    rows = EngagementDaily.objects.filter(customer=customer).values_list("day", "kind", "feature", "count")
    return Counter({(day, kind, feature): n for day, kind, feature, n in rows})


def brute_force(customer) -> Counter:
    rows = EngagementEvent.objects.filter(customer=customer).values_list("occurred_at", "kind", "feature")
    return Counter((at.astimezone(dt.UTC).date(), kind, feature) for at, kind, feature in rows)
