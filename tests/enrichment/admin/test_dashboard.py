"""The health dashboard's MRR at risk (against a brute-force sum) and why
each of the biggest drops happened (from the stored context snapshots)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from enrichment.admin.dashboard import dashboard_data
from enrichment.history.models import ContextSnapshot, CustomerHealth, HealthDaily
from tests.customers.factories import CustomerFactory
from tests.enrichment.admin.conftest import CHANGELIST, health_for

pytestmark = pytest.mark.django_db

DASHBOARD = f"{CHANGELIST}dashboard/"
LABELS = (("Good", 88), ("Fair", 66), ("At Risk", 47), ("Critical", 19))


def test_mrr_at_risk_matches_a_brute_force_sum(client, superuser):
    rng = random.Random(13)
    for i in range(40):
        label, score = LABELS[rng.randrange(4)]
        mrr = Decimal(rng.randrange(0, 500_000)) / 100
        health_for(CustomerFactory(external_id=f"mr_{i}"), health_label=label, health_score=score, mrr=mrr)
    CustomerFactory(external_id="mr_none")  # never computed: not counted
    at_risk = [row for row in CustomerHealth.objects.all() if row.health_label in ("At Risk", "Critical")]
    expected = sum((row.mrr for row in at_risk), Decimal("0"))
    assert at_risk and expected > 0

    client.force_login(superuser)
    response = client.get(DASHBOARD)
    assert response.context["at_risk"] == {"mrr": expected, "accounts": len(at_risk)}
    html = response.content.decode()
    block = html.split('id="cc-mrr-at-risk"')[1].split("</div>")[0]
    assert f"${expected:,.2f}" in block
    assert f"{len(at_risk)} accounts At Risk or Critical" in block


def test_mrr_at_risk_is_zero_without_accounts_at_risk(client, superuser):
    health_for(CustomerFactory(external_id="mr_good"), health_label="Good", mrr=Decimal("999.00"))
    client.force_login(superuser)
    response = client.get(DASHBOARD)
    assert response.context["at_risk"] == {"mrr": 0, "accounts": 0}
    assert "$0.00" in response.content.decode().split('id="cc-mrr-at-risk"')[1].split("</div>")[0]


def _snapshot(customer, at: dt.datetime, **data) -> None:
    base = {"score": 80, "label": "Good", "churn": 0.1, "flags": [["high_engagement", "green"]], "plan": "premium",
            "status": "active", "seats": [8, 10], "renewal": None, "open": 0, "urgent": 0, "tickets": [], "incidents": []}  # fmt: skip
    ContextSnapshot.objects.create(customer=customer, created_at=at, content_hash=str(at.timestamp()), data={**base, **data})


def _drop(customer, *, day: dt.date, before: int, now: int) -> None:
    HealthDaily.objects.create(customer=customer, day=day - dt.timedelta(days=7), health_score=before)
    HealthDaily.objects.create(customer=customer, day=day, health_score=now)


def test_each_drop_says_why_from_the_snapshots():
    day = timezone.localdate()
    noon = dt.datetime.combine(day, dt.time(12), tzinfo=timezone.get_current_timezone())
    explained = CustomerFactory(external_id="d_why", company_name="Why Co")
    health_for(explained, health_label="Critical", health_score=30, red_flags=1, top_reason="Payment failed - subscription past due")
    _drop(explained, day=day, before=80, now=30)
    _snapshot(explained, noon - dt.timedelta(days=20))  # in force a week ago
    _snapshot(explained, noon - dt.timedelta(days=3), score=55, flags=[["login_drop", "yellow"]], seats=[4, 10])
    _snapshot(explained, noon - dt.timedelta(days=1), score=30, label="Critical", status="past_due",
              flags=[["login_drop", "red"], ["payment_failed", "red"]], seats=[4, 10], tickets=[981])  # fmt: skip
    _snapshot(explained, noon + dt.timedelta(days=1), score=90, flags=[])  # after the day: not part of the drop

    unexplained = CustomerFactory(external_id="d_none", company_name="Quiet Co")
    health_for(unexplained, health_label="At Risk", health_score=50, yellow_flags=1, top_reason="Only 3/10 seats in use")
    _drop(unexplained, day=day, before=70, now=50)
    _snapshot(unexplained, noon - dt.timedelta(days=2), score=50)  # the only one: nothing to compare

    data = dashboard_data(today=day)
    rows = {row["customer__external_id"]: row for row in data["drops"]}
    # Against the snapshot in force a week ago (the yellow login drop of 3 days ago is a step between).
    assert rows["d_why"]["why"] == [
        "New critical: login drop",
        "New critical: payment failed",
        "Subscription status: active → past_due",
        "and 3 more changes",  # the lost green flag, seats in use, the new ticket
    ]
    assert rows["d_none"]["why"] == []
    assert rows["d_none"]["why_note"] == "No stored snapshot from before the drop to compare with; top reason now: Only 3/10 seats in use"


def test_drop_reasons_cost_the_same_queries_for_2_and_12_drops(client, superuser):
    day = timezone.localdate()
    noon = dt.datetime.combine(day, dt.time(12), tzinfo=timezone.get_current_timezone())

    def make(start: int, n: int) -> None:
        for i in range(start, start + n):
            customer = CustomerFactory(external_id=f"q_{i}")
            health_for(customer, health_label="At Risk", health_score=40)
            _drop(customer, day=day, before=80, now=40)
            _snapshot(customer, noon - dt.timedelta(days=10))
            _snapshot(customer, noon - dt.timedelta(days=1), score=40, flags=[["payment_failed", "red"]])

    client.force_login(superuser)
    make(0, 2)
    client.get(DASHBOARD)
    with CaptureQueriesContext(connection) as two:
        response = client.get(DASHBOARD)
    assert all(row["why"] for row in response.context["drops"]) and len(response.context["drops"]) == 2
    make(2, 10)
    with CaptureQueriesContext(connection) as twelve:
        response = client.get(DASHBOARD)
    assert len(response.context["drops"]) == 12
    assert len(twelve) == len(two), [q["sql"][:100] for q in twelve.captured_queries]
    html = response.content.decode()
    assert html.count("<li>New critical: payment failed</li>") == 12


def test_a_drop_with_snapshots_but_no_flag_change_says_so():
    day = timezone.localdate()
    noon = dt.datetime.combine(day, dt.time(12), tzinfo=timezone.get_current_timezone())
    customer = CustomerFactory(external_id="d_score")
    health_for(customer, health_label="Fair", health_score=61, top_reason="")
    _drop(customer, day=day, before=75, now=61)
    _snapshot(customer, noon - dt.timedelta(days=9), score=75)
    _snapshot(customer, noon - dt.timedelta(days=1), score=61, label="Fair")
    (row,) = dashboard_data(today=day)["drops"]
    assert row["why"] == [] and row["why_note"] == "No flag or account change in the snapshots."
