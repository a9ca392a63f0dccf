"""The embedded default (SQLite) keeps the rollup and records changes too:
the same writes as on PostgreSQL, in a real SQLite database migrated from
scratch in a child process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import datetime as dt
from collections import Counter
from django.db import connection
from customers.models import Customer, CustomerDataChange, EngagementDaily, EngagementEvent
from customers.selectors import engagement_windows

T0 = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
c = Customer.objects.create(external_id="lite", company_name="Lite", customer_since=dt.date(2024, 1, 1))
EngagementEvent.objects.bulk_create(
    [EngagementEvent(customer=c, kind=("login", "feature_use")[i % 2], feature=("", "reports")[i % 2],
                     occurred_at=T0 - dt.timedelta(hours=7 * i)) for i in range(300)]
)
EngagementEvent.objects.filter(pk__in=list(EngagementEvent.objects.values_list("pk", flat=True)[:40])).update(
    occurred_at=T0 - dt.timedelta(days=45))
EngagementEvent.objects.filter(kind="feature_use", pk__lt=60).update(feature="tasks")
EngagementEvent.objects.filter(pk__gt=250).delete()
one = EngagementEvent.objects.order_by("pk").last()
one.occurred_at = T0 - dt.timedelta(days=2)
one.save()
with connection.cursor() as cursor:
    cursor.execute("INSERT INTO customers_engagementevent (customer_id, kind, feature, occurred_at) VALUES (%s, 'login', '', %s)",
                   [c.pk, (T0 - dt.timedelta(days=29, hours=23)).strftime("%Y-%m-%d %H:%M:%S")])
rollup = Counter({(str(d), k, f): n for d, k, f, n in EngagementDaily.objects.values_list("day", "kind", "feature", "count")})
brute = Counter((str(t.date()), k, f) for t, k, f in EngagementEvent.objects.values_list("occurred_at", "kind", "feature"))
assert rollup == brute, (rollup - brute, brute - rollup)
window = engagement_windows(customer_pks=[c.pk], now=T0)[c.pk]
logins = sum(1 for t, k in EngagementEvent.objects.values_list("occurred_at", "kind")
             if k == "login" and T0 - dt.timedelta(days=30) < t <= T0)
assert window.current.get(("login", ""), 0) == logins, (window.current, logins)
assert set(CustomerDataChange.objects.values_list("external_id", flat=True)) == {"lite"}
print("sqlite ok", sum(rollup.values()), logins)
"""


def test_sqlite_rollup_and_change_capture(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "DATABASE_URL")}
    env |= {"DATABASE_URL": f"sqlite:///{tmp_path / 'embedded.sqlite3'}", "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    run = lambda *args: subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)  # noqa: E731
    migrated = run("migrate", "--noinput", "-v0")
    assert migrated.returncode == 0, migrated.stderr
    checked = run("shell", "-c", SCRIPT)
    assert checked.returncode == 0, checked.stderr[-3000:]
    assert "sqlite ok" in checked.stdout
