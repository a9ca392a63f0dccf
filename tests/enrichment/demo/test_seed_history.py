"""``seed_demo`` once on PostgreSQL, with the production way of writing health
(the background writer, flushing every 10 ms so it races the backfill): every
customer gets its 12-week trend and the dashboard has its biggest drops. The
backfill reads the health rows only after every queued write has committed
(``health_flush`` waits for a flush in progress)."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from customers.models import Customer
from enrichment.admin.selectors import health_drops, health_trend, latest_health_day
from enrichment.history import writer
from enrichment.history.models import CustomerHealth, HealthDaily

pytestmark = pytest.mark.django_db(transaction=True)

CUSTOMERS = 60


@pytest.fixture
def racing_writer(settings):
    settings.ENRICHMENT_HEALTH_WRITES = "auto"
    settings.ENRICHMENT_HEALTH_FLUSH_SECONDS = 0.01
    writer._WRITER = None  # a writer with this interval
    yield
    writer.health_flush()
    writer._WRITER = None


@pytest.mark.parametrize("run", range(3))
def test_one_seed_on_postgresql_fills_every_trend_and_the_dashboard_drops(racing_writer, run):
    assert connection.vendor == "postgresql" and writer.deferred()
    call_command("seed_demo", customers=CUSTOMERS, stdout=StringIO())
    customers = Customer.objects.count()
    assert customers == CUSTOMERS + 3
    assert CustomerHealth.objects.count() == customers
    with_history = HealthDaily.objects.values("customer_id").distinct().count()
    assert with_history == customers, f"{customers - with_history} customers have no health history after one seed"
    today = timezone.localdate()
    acme = Customer.objects.get(external_id="customer_123")
    trend = health_trend(customer_pk=acme.pk, today=today)
    assert len(trend) == 12 and all(value is not None for _week, value in trend)
    day = latest_health_day()
    assert day == today
    drops = health_drops(day=day, since=day - dt.timedelta(days=7), limit=20)
    assert drops, "the dashboard's biggest drops of the week must not be empty"
    assert "customer_at_risk" in {row["customer__external_id"] for row in drops} or len(drops) >= 5
