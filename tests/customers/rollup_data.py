"""Shared data of the rollup tests: three customers with events and an exact
rollup, and drift seeded on purpose (rows corrupted with ``.update()``,
deleted, and bogus rows without events)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from customers.models import Customer, EngagementDaily, EngagementKind
from tests.customers.factories import CustomerFactory, EngagementDailyFactory, events_with_rollup

LOGIN, FEATURE, API, ERROR = EngagementKind.LOGIN, EngagementKind.FEATURE_USE, EngagementKind.API_CALL, EngagementKind.ERROR


@dataclass
class Seeded:
    today: dt.date
    alpha: Customer
    beta: Customer
    gamma: Customer

    def ago(self, days: int) -> dt.date:
        return self.today - dt.timedelta(days=days)


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def seed_rollup() -> Seeded:
    """alpha: logins 1 and 2 days ago, a feature a day ago, a login 100 days ago;
    beta: logins and an API call 3 days ago; gamma: a login 5 days ago."""
    today = timezone.now().astimezone(dt.UTC).date()
    s = Seeded(today, CustomerFactory(external_id="alpha"), CustomerFactory(external_id="beta"), CustomerFactory(external_id="gamma"))
    events_with_rollup(
        s.alpha,
        [(at(s.ago(1), h), LOGIN, "") for h in (1, 2, 3)]
        + [(at(s.ago(2)), LOGIN, ""), (at(s.ago(2), 23), LOGIN, ""), (at(s.ago(1)), FEATURE, "reports"), (at(s.ago(100)), LOGIN, "")],
    )
    events_with_rollup(s.beta, [(at(s.ago(3)), LOGIN, ""), (at(s.ago(3), 4), LOGIN, ""), (at(s.ago(3)), API, "")])
    events_with_rollup(s.gamma, [(at(s.ago(5)), LOGIN, "")])
    return s


def seed_drift(s: Seeded) -> None:
    """Within 60 days: one wrong count (alpha), one missing row (beta), one
    extra row (gamma); and a wrong count 100 days ago (alpha)."""
    EngagementDaily.objects.filter(customer=s.alpha, day=s.ago(1), kind=LOGIN).update(count=99)
    EngagementDaily.objects.filter(customer=s.beta, day=s.ago(3), kind=API).delete()
    EngagementDailyFactory(customer=s.gamma, day=s.ago(7), kind=ERROR, feature="", count=4)
    EngagementDaily.objects.filter(customer=s.alpha, day=s.ago(100)).update(count=5)


def rollup_table() -> list[tuple]:
    return sorted(EngagementDaily.objects.values_list("customer_id", "day", "kind", "feature", "count"))
