"""``seed_demo`` once on PostgreSQL (and on SQLite, the embedded default), with the production way of writing health
(the background writer, flushing every 10 ms so it races the backfill): every
customer gets its 12-week trend and the dashboard has its biggest drops. The
backfill reads the health rows only after every queued write has committed
(``health_flush`` waits for a flush in progress)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from customers.models import Customer
from enrichment.admin.selectors import health_drops, health_trend, latest_health_day
from enrichment.history import writer
from enrichment.history.models import CustomerHealth, HealthDaily

CUSTOMERS = 60
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def racing_writer(settings):
    settings.ENRICHMENT_HEALTH_WRITES = "auto"
    settings.ENRICHMENT_HEALTH_FLUSH_SECONDS = 0.01
    writer._WRITER = None  # a writer with this interval
    yield
    writer.health_flush()
    writer._WRITER = None


@pytest.mark.django_db(transaction=True)
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


SQLITE_CHECK = r"""
import datetime as dt, json
from django.utils import timezone
from customers.models import Customer
from enrichment.admin.selectors import health_drops, latest_health_day
from enrichment.history.models import HealthDaily
day = latest_health_day()
drops = health_drops(day=day, since=day - dt.timedelta(days=7), limit=20)
missing = Customer.objects.exclude(pk__in=HealthDaily.objects.values("customer_id")).count()
history = sorted((c, str(d), s) for c, d, s in HealthDaily.objects.values_list("customer__external_id", "day", "health_score"))
print(json.dumps({"missing": missing, "drops": len(drops), "rows": len(history), "history": history}))
"""


@pytest.mark.slow
def test_one_seed_on_sqlite_fills_every_trend_the_same_way_each_time(tmp_path):
    """The embedded default: two fresh SQLite databases, one seed each, the same history."""
    results = []
    for name in ("one", "two"):
        env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "DATABASE_URL")}
        env |= {"DATABASE_URL": f"sqlite:///{tmp_path / name}.sqlite3", "DJANGO_SETTINGS_MODULE": "config.settings.local",
                # The churn demo's accounts place events at times of day relative to the seed's own clock, so two
                # seeds minutes apart differ at the 30-day edge; this test is about the health rows' race.
                "DEMO_CHURN_HISTORY_ACCOUNTS": "0"}  # fmt: skip
        for args in (["migrate", "--noinput", "-v0"], ["seed_demo", "--customers", "20", "--no-progress"], ["shell", "-c", SQLITE_CHECK]):
            done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stderr[-3000:]
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    first, second = results
    assert first["missing"] == 0 and first["drops"] > 0 and first["rows"] > 20 * 12
    assert first["history"] == second["history"], "the demo history must be the same for the same seed"
