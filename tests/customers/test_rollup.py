"""customers.rollup: the drift between the rollup and the raw events, found in
one set-based statement per chunk, and repaired day by day."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import Customer, EngagementDaily, EngagementEvent
from customers.rollup import (
    RollupDrift,
    _repair_groups,
    engagement_rollup_days,
    engagement_rollup_drift,
    engagement_rollup_drift_chunked,
    engagement_rollup_fix,
    engagement_rollup_repair,
    engagement_rollup_rows,
    rollup_chunks,
    rollup_customer_pks,
    rollup_since,
)
from tests.customers.factories import CustomerFactory, EngagementDailyFactory, events_with_rollup
from tests.customers.rollup_data import API, ERROR, LOGIN, at, seed_drift, seed_rollup

pytestmark = pytest.mark.django_db


def test_rollup_since_counts_today_and_zero_means_all_history():
    today = dt.date(2025, 3, 10)
    assert rollup_since(days=60, today=today) == dt.date(2025, 1, 10)
    assert rollup_since(days=1, today=today) == today
    assert rollup_since(days=0, today=today) is None


def test_an_exact_rollup_has_no_drift():
    seed_rollup()
    drift = engagement_rollup_drift(since=None)
    assert (drift.keys, drift.customers, drift.customers_checked) == (0, 0, 3)
    assert drift.examples == () and drift.customer_days == frozenset()
    assert engagement_rollup_drift(since=None, customer_pks=[]) == RollupDrift(since=None)


def test_wrong_missing_and_extra_rows_are_found():
    s = seed_rollup()
    seed_drift(s)
    drift = engagement_rollup_drift(since=rollup_since(days=60, today=s.today))
    assert (drift.wrong, drift.missing, drift.extra, drift.keys, drift.customers) == (1, 1, 1, 3, 3)
    assert drift.customer_days == {(s.alpha.pk, s.ago(1)), (s.beta.pk, s.ago(3)), (s.gamma.pk, s.ago(7))}
    assert [(e.external_id, e.day, e.kind, e.expected, e.stored, e.problem) for e in drift.examples] == [
        ("alpha", s.ago(1), LOGIN, 3, 99, "wrong"),
        ("beta", s.ago(3), API, 1, None, "missing"),
        ("gamma", s.ago(7), ERROR, 0, 4, "extra"),
    ]
    assert str(drift.examples[1]) == f"beta {s.ago(3)} api_call:- events=1 rollup=- (missing)"
    # All history also finds the wrong count 100 days ago.
    assert engagement_rollup_drift(since=None).wrong == 2


def test_a_rollup_row_without_events_is_drift_even_with_a_zero_count():
    s = seed_rollup()
    EngagementDailyFactory(customer=s.beta, day=s.ago(10), kind=LOGIN, feature="bogus", count=0)
    drift = engagement_rollup_drift(since=None)
    assert (drift.extra, drift.keys) == (1, 1)


def test_days_are_utc_dates_of_occurred_at():
    customer = CustomerFactory()
    new_york = dt.timezone(dt.timedelta(hours=-5))
    events_with_rollup(customer, [(dt.datetime(2025, 1, 1, 22, 30, tzinfo=new_york), LOGIN, "")])  # 03:30 UTC on Jan 2
    assert engagement_rollup_drift(since=None).keys == 0
    EngagementDaily.objects.all().delete()
    (example,) = engagement_rollup_drift(since=None).examples
    assert (example.day, example.problem) == (dt.date(2025, 1, 2), "missing")
    assert engagement_rollup_drift(since=dt.date(2025, 1, 2)).keys == 1
    assert engagement_rollup_drift(since=dt.date(2025, 1, 3)).keys == 0


def test_only_the_given_customers_are_checked():
    s = seed_rollup()
    seed_drift(s)
    drift = engagement_rollup_drift(since=None, customer_pks=[s.beta.pk, s.gamma.pk])
    assert (drift.customers_checked, drift.keys) == (2, 2)
    assert {customer for customer, _day in drift.customer_days} == {s.beta.pk, s.gamma.pk}


def test_one_statement_per_chunk_whatever_the_number_of_customers():
    s = seed_rollup()
    seed_drift(s)
    for n in range(20):
        customer = CustomerFactory()
        events_with_rollup(customer, [(at(s.ago(n % 4)), LOGIN, "")])
        EngagementDaily.objects.filter(customer=customer).update(count=7)
    pks = rollup_customer_pks()
    with CaptureQueriesContext(connection) as queries:
        drift = engagement_rollup_drift(since=None, customer_pks=pks)
    assert drift.keys == 24 and drift.customers == 23
    assert len(queries.captured_queries) == 2  # the comparison, then the external ids of the examples
    chunked = engagement_rollup_drift_chunked(since=None, chunks=rollup_chunks(rollup_customer_pks(), size=5))
    assert (chunked.keys, chunked.customers, chunked.customers_checked, len(chunked.examples)) == (24, 23, 23, 10)
    assert chunked.customer_days == drift.customer_days and chunked.examples == drift.examples


def test_a_sample_or_named_customers(settings):
    s = seed_rollup()
    assert rollup_customer_pks() == sorted([s.alpha.pk, s.beta.pk, s.gamma.pk])
    sample = rollup_customer_pks(sample=2)
    assert len(sample) == 2 and set(sample) <= {s.alpha.pk, s.beta.pk, s.gamma.pk} and sample == sorted(sample)
    assert rollup_customer_pks(external_ids=["gamma", "alpha"]) == sorted([s.alpha.pk, s.gamma.pk])
    with pytest.raises(Customer.DoesNotExist, match="nobody"):
        rollup_customer_pks(external_ids=["alpha", "nobody"])


def test_repair_rebuilds_exactly_the_drifted_customer_days():
    s = seed_rollup()
    seed_drift(s)
    before = set(EngagementDaily.objects.values_list("pk", flat=True))
    drifted_days = {(s.alpha.pk, s.ago(1)), (s.beta.pk, s.ago(3)), (s.gamma.pk, s.ago(7))}
    elsewhere = {pk for pk, c, day in EngagementDaily.objects.values_list("pk", "customer_id", "day") if (c, day) not in drifted_days}
    drift = engagement_rollup_drift(since=rollup_since(days=60, today=s.today))
    assert engagement_rollup_repair(drift=drift) == 4  # alpha's two rows of day -1, beta's two of day -3; gamma's bogus row dropped
    assert engagement_rollup_drift(since=rollup_since(days=60, today=s.today)).keys == 0
    after = set(EngagementDaily.objects.values_list("pk", flat=True))
    assert elsewhere <= after  # rows of the other customer-days were not rewritten
    assert (after - elsewhere).isdisjoint(before)  # the drifted customer-days' rows are new
    assert engagement_rollup_drift(since=None).wrong == 1  # the old drift, outside the window, is left alone


def test_repair_groups_cover_the_customer_days_exactly():
    d = [dt.date(2025, 1, n) for n in range(1, 8)]
    cases = [
        {(1, d[0]), (1, d[1]), (2, d[0]), (2, d[1]), (3, d[5])},  # two customers share days
        {(c, d[0]) for c in range(1, 50)} | {(c, d[3]) for c in range(1, 50)},  # many customers, two days
        {(c, d[c % 7]) for c in range(1, 40)},
    ]
    for customer_days in cases:
        groups = _repair_groups(frozenset(customer_days))
        covered = [(c, day) for customers, days in groups for c in customers for day in days]
        assert len(covered) == len(set(covered)) and set(covered) == customer_days
    assert len(_repair_groups(frozenset(cases[1]))) == 1


def test_fix_repairs_and_verifies_again():
    s = seed_rollup()
    seed_drift(s)
    drift = engagement_rollup_drift(since=None)
    written, again = engagement_rollup_fix(drift=drift, chunk_size=2)
    assert written == 5 and again.keys == 0 and again.customers_checked == 3
    assert engagement_rollup_drift(since=None) == RollupDrift(since=None, customers_checked=3)


def test_rows_a_rebuild_would_replace_and_write():
    s = seed_rollup()
    seed_drift(s)
    pks = rollup_customer_pks()
    assert engagement_rollup_rows(since=None, customer_pks=pks) == (7, 7)  # one row missing, one extra
    assert engagement_rollup_rows(since=s.ago(3), customer_pks=pks) == (4, 5)  # beta's API call is missing
    days = engagement_rollup_days(since=s.ago(3))
    assert days[0] == s.ago(3) and days[-1] == s.today + dt.timedelta(days=1) and len(days) == 5
    assert EngagementEvent.objects.count() == 11
