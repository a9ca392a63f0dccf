"""The last login, read on a bounded number of monthly partitions, equals the
brute-force "latest login at or before now" over every raw event: an
account's (today's raw events, else the rollup's last login day and that
day's raw events: customers.last_login.last_login_rows) and one person's
(the window's grouped events, else the raw events before the window:
customers.selectors.contact_activity). Logins after ``now``, today's only,
months apart, none at all."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from customers.models import EngagementEvent
from customers.partitions import events_partitions_ensure
from customers.selectors import contact_activity, engagement_windows
from customers.windows import midnight, trailing
from tests.customers.factories import ContactFactory, CustomerFactory

DAY = dt.timedelta(days=1)
BASE = midnight(timezone.now().date()) - 3 * DAY

# (days from BASE's midnight, second of that day, kind, which contact)
event = st.tuples(
    st.one_of(st.integers(-400, 3), st.sampled_from([0, -1, 1])),
    st.one_of(st.integers(0, 86399), st.sampled_from([0, 1, 43200, 86399])),
    st.sampled_from(["login", "login", "feature_use"]),
    st.sampled_from([0, 1, None]),
)


def latest(events: list[tuple[dt.datetime, str, int | None]], now: dt.datetime, contact: int | None = None) -> dt.datetime | None:
    return max((t for t, kind, who in events if kind == "login" and t <= now and (contact is None or who == contact)), default=None)


@pytest.mark.django_db
@hsettings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    events=st.lists(event, max_size=30),
    now_at=st.tuples(st.sampled_from([0, 0, 1, -2]), st.one_of(st.integers(0, 86399), st.sampled_from([0, 1, 86399]))),
    extra=st.integers(0, 999_999),
)
def test_last_logins_equal_the_latest_login_at_or_before_now(events, now_at, extra):
    events_partitions_ensure(since=BASE - 410 * DAY)
    customer = CustomerFactory()
    contacts = [ContactFactory(customer=customer), ContactFactory(customer=customer)]
    rows = [(BASE + d * DAY + dt.timedelta(seconds=s), kind, who) for d, s, kind, who in events]
    EngagementEvent.objects.bulk_create(
        EngagementEvent(customer=customer, contact=contacts[who] if who is not None else None, kind=kind, occurred_at=t)
        for t, kind, who in rows
    )
    now = BASE + now_at[0] * DAY + dt.timedelta(seconds=now_at[1], microseconds=extra)
    expected = latest(rows, now)
    assert engagement_windows(customer_pks=[customer.pk], now=now)[customer.pk].last_login_at == expected
    assert engagement_windows(customer_pks=[customer.pk, contacts[0].customer_id], now=now)[customer.pk].last_login_at == expected
    for n, contact in enumerate(contacts):
        activity = contact_activity(contact_pk=contact.pk, window=trailing(now))
        assert activity.last_login_at == latest(rows, now, contact=n)
        assert activity.logins == sum(1 for t, kind, who in rows if kind == "login" and who == n and now - 30 * DAY < t <= now)
