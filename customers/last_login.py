"""The last login at or before ``now``, read on one UTC day of raw events.

The raw events are partitioned by month (PostgreSQL, :mod:`customers.partitions`),
so "the latest login ever" asked of the raw events alone probes every
partition, and the ``(customer, occurred_at)`` index holds every kind of
event. The daily rollup knows the days with logins; the raw events of one of
those days give the time. :func:`last_login_rows`, one statement for one
account (the context's cold path, pipelined with the window statement:
:func:`customers.selectors.engagement_windows_planned`) or many (batch
refreshes): the latest login today up to ``now``, else the latest on the last
day before today the rollup has logins for. Each probe reads one partition
(pruned as it runs).

When the retention dropped that day's raw events, the rollup still knows the
day: its first instant stands for the last login (the days since it stay
exact). Equal to the brute-force latest raw login at or before ``now``
otherwise (tests/customers/test_last_login.py).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import DateTimeField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from customers.models import Customer, EngagementDaily, EngagementEvent, EngagementKind
from customers.windows import UtcDayStart

DAY = dt.timedelta(days=1)
_LOGIN = Q(kind=EngagementKind.LOGIN)


def _last_login_day(today: dt.date) -> QuerySet:
    return EngagementDaily.objects.filter(_LOGIN, customer_id=OuterRef("pk"), day__lt=today).order_by("-day")


def _latest(events: QuerySet) -> Subquery:
    return Subquery(events.order_by("-occurred_at").values("occurred_at")[:1])


def last_login_rows(customers: Q, *, now: dt.datetime, today_start: dt.datetime, today: dt.date) -> QuerySet:
    """``(pk, last login at or before now)`` of these customers in one
    statement: the latest login today (from ``today_start``, the first
    instant of ``today``) up to ``now``, else the latest on the last day
    before today the rollup has logins for (else that day's first instant).
    Each probe reads one partition (pruned as it runs)."""
    today_last = _latest(EngagementEvent.objects.filter(_LOGIN, customer_id=OuterRef("pk"), occurred_at__gte=today_start,
                                                        occurred_at__lte=now))  # fmt: skip
    day = OuterRef("day")
    day_last = _latest(
        EngagementEvent.objects.filter(
            _LOGIN, customer_id=OuterRef("customer_id"), occurred_at__gte=UtcDayStart(day), occurred_at__lt=UtcDayStart(day, days=1)
        )
    )
    before_today = _last_login_day(today).annotate(at=Coalesce(day_last, UtcDayStart("day"))).values("at")[:1]
    last = Coalesce(today_last, Subquery(before_today), output_field=DateTimeField())
    return Customer.objects.filter(customers).annotate(last=last).values_list("pk", "last").order_by()
