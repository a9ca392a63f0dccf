"""The demo health history (seed_demo), the refresh service and task, and the chart geometry."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, Max, Min
from django.utils import timezone

from customers.models import Customer
from enrichment.admin.charts import sparkline, trend_chart, weekly_points
from enrichment.admin.dashboard import dashboard_data
from enrichment.admin.formatting import freshness
from enrichment.admin.selectors import health_trend
from enrichment.demo.history import health_history_backfill
from enrichment.engine.services import contexts_refresh
from enrichment.engine.tasks import refresh_contexts
from enrichment.history.models import CustomerHealth, HealthDaily


@pytest.mark.django_db
def test_seed_fills_12_weeks_of_history_once():
    out = StringIO()
    call_command("seed_demo", customers=12, stdout=out)
    assert "health history:" in out.getvalue() and "daily rows written" in out.getvalue()
    today = timezone.localdate()
    customers = Customer.objects.count()
    assert CustomerHealth.objects.count() == customers  # every context computed

    per_customer = HealthDaily.objects.values("customer_id").annotate(n=Count("pk"), first=Min("day"), last=Max("day"))
    assert len(per_customer) == customers
    for row in per_customer:
        assert row["last"] == today
        assert row["n"] <= 84 and row["first"] >= today - dt.timedelta(days=83)

    # The history ends at today's score, and never starts before the customer existed.
    for health in CustomerHealth.objects.select_related("customer"):
        assert HealthDaily.objects.get(customer_id=health.customer_id, day=today).health_score == health.health_score
    trial = Customer.objects.get(external_id="customer_trial")
    assert HealthDaily.objects.filter(customer=trial).aggregate(first=Min("day"))["first"] >= trial.customer_since
    assert HealthDaily.objects.filter(customer__external_id="customer_123").count() == 84

    # The at-risk account declined over the 12 weeks.
    trend = health_trend(customer_pk=Customer.objects.get(external_id="customer_at_risk").pk, today=today)
    assert len(trend) == 12 and all(value is not None for _, value in trend)
    assert trend[0][1] > trend[-1][1] + 10

    rows = HealthDaily.objects.count()
    again = StringIO()
    call_command("seed_demo", customers=12, stdout=again)
    assert "health history: already present (" in again.getvalue()
    assert HealthDaily.objects.count() == rows


@pytest.mark.django_db
def test_backfill_is_deterministic_and_idempotent():
    call_command("seed_demo", customers=3, stdout=StringIO())
    first = list(HealthDaily.objects.order_by("customer_id", "day").values_list("customer_id", "day", "health_score"))
    HealthDaily.objects.all().delete()
    written = health_history_backfill(days=84, seed=42)
    assert written == len(first)
    assert list(HealthDaily.objects.order_by("customer_id", "day").values_list("customer_id", "day", "health_score")) == first
    assert health_history_backfill() == 0


@pytest.mark.django_db
def test_contexts_refresh_and_the_task(acme):
    assert not CustomerHealth.objects.filter(customer=acme).exists()
    assert contexts_refresh(customer_ids=["customer_123", "no_such_customer", "bad id!"]) == 1
    assert CustomerHealth.objects.get(customer=acme).health_score == 85
    before = CustomerHealth.objects.get(customer=acme).computed_at
    result = refresh_contexts.delay(["customer_123"])  # eager in tests
    assert result.get() == 1
    assert CustomerHealth.objects.get(customer=acme).computed_at > before


@pytest.mark.django_db
def test_dashboard_drops_compare_the_latest_day_with_a_week_before():
    today = timezone.localdate()
    week_ago = today - dt.timedelta(days=7)
    scores = {"d_big": (90, 40), "d_small": (70, 65), "d_up": (50, 80), "d_new": (None, 30)}
    for external_id, (before, now) in scores.items():
        customer = Customer.objects.create(external_id=external_id, company_name=external_id, customer_since=today)
        if before is not None:
            HealthDaily.objects.create(customer=customer, day=week_ago, health_score=before, churn_risk=0.1)
        HealthDaily.objects.create(customer=customer, day=today, health_score=now, churn_risk=0.5)
    data = dashboard_data(today=today)
    assert [(row["customer__external_id"], row["drop"]) for row in data["drops"]] == [("d_big", 50), ("d_small", 5)]
    assert data["drops_day"] == today
    assert {row["label"]: row["count"] for row in data["labels"]}["Not computed"] == 4


def test_weekly_points_average_7_day_buckets():
    today = dt.date(2026, 3, 31)
    rows = [(today - dt.timedelta(days=age), 100 - age) for age in range(84)]
    weekly = weekly_points(rows, today=today)
    assert len(weekly) == 12
    assert weekly[-1] == (today, 97.0)  # ages 0..6
    assert weekly[0] == (today - dt.timedelta(days=77), 100 - 80.0)  # ages 77..83
    sparse = weekly_points([(today, 50)], today=today)
    assert sparse[-1] == (today, 50.0) and all(value is None for _, value in sparse[:-1])
    chart = trend_chart(sparse)
    assert chart is not None and len(chart.marks) == 1
    assert trend_chart(weekly_points([], today=today)) is None


def test_sparkline_geometry():
    assert sparkline([]) is None
    line = sparkline([0] * 29 + [4], width=300, height=48, pad=3)
    assert len(line.marks) == 30 and line.peak == 4 and line.total == 4
    assert line.marks[0].x == 3 and line.marks[-1].x == 297
    assert line.last.y == 3  # the peak touches the top padding
    assert line.marks[0].y == 45  # zero sits on the baseline
    flat = sparkline([0] * 30)
    assert {m.y for m in flat.marks} == {45.0}


def test_freshness():
    now = timezone.now()
    assert freshness(None) == "never"
    assert freshness(now, now=now) == "just now"
    assert freshness(now - dt.timedelta(minutes=7), now=now) == "7 min ago"
    assert freshness(now - dt.timedelta(hours=5), now=now) == "5 h ago"
    assert freshness(now - dt.timedelta(days=3), now=now) == "3 d ago"
