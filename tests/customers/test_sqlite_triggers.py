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
# every captured table still has its triggers after every migration (SQLite drops them when it rebuilds a table)
with connection.cursor() as cursor:
    cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    triggers = {row[0] for row in cursor.fetchall()}
for table in ("customers_customer", "customers_contact", "customers_engagementevent", "support_ticket",
              "billing_subscription", "billing_invoice"):
    assert {f"{table}_capture_change_{e}" for e in ("insert", "update", "delete")} <= triggers, (table, sorted(triggers))
assert {"billing_plan_capture_change_update", "support_ticket_touch", "support_ticket_reopened"} <= triggers
from customers.models import Contact
from support.models import Ticket
CustomerDataChange.objects.all().delete()
Contact.objects.create(customer=c, email="x@lite.io", name="X")
assert list(CustomerDataChange.objects.values_list("source", flat=True)) == ["customers_contact"]
ticket = Ticket.objects.create(customer=c, subject="Help", status="solved", created_at=T0)
stamp = Ticket.objects.get(pk=ticket.pk).updated_at
with connection.cursor() as cursor:  # a writer behind the ORM's back
    cursor.execute("UPDATE support_ticket SET status = 'open' WHERE id = %s", [ticket.pk])
again = Ticket.objects.get(pk=ticket.pk)
assert (again.reopened_count, again.updated_at > stamp) == (1, True), (again.reopened_count, again.updated_at, stamp)
assert "support_ticket" in set(CustomerDataChange.objects.values_list("source", flat=True))
# a plain table (no partitions on SQLite), the same idempotency key as on PostgreSQL, and the rollup triggers back
from customers.partitions import PartitionsEnsured, RetentionApplied, events_partitioned, events_partitions_ensure, events_retention_apply
from customers.services import EventInput, engagement_events_ingest
assert not events_partitioned() and events_partitions_ensure() == PartitionsEnsured()
assert events_retention_apply(months=3) == RetentionApplied()
assert {f"customers_engagement_rollup_{op}" for op in ("insert", "update", "delete")} <= triggers, sorted(triggers)
assert {"customers_event_keys_insert", "customers_event_keys_delete"} <= triggers, sorted(triggers)
with connection.cursor() as cursor:
    cursor.execute("SELECT type FROM sqlite_master WHERE name = 'customers_engagementevent'")
    assert cursor.fetchall() == [("table",)]
    unique = [row[1] for row in cursor.execute("PRAGMA index_list(customers_engagementevent)").fetchall() if row[2]]
    columns = [[r[2] for r in cursor.execute(f"PRAGMA index_info('{name}')").fetchall()] for name in unique]
    assert columns == [["event_id", "occurred_at"]], columns
batch = [EventInput("lite-1", "lite", "login", T0), EventInput("lite-2", "lite", "feature_use", T0 - dt.timedelta(days=40), "tasks")]
first, again = engagement_events_ingest(events=batch), engagement_events_ingest(events=batch)
assert (first.created, again.created, again.duplicates) == (2, 0, 2), (first, again)
restamped = [EventInput("lite-1", "lite", "login", T0 + dt.timedelta(minutes=3))]  # a retry stamped again: the same event
assert engagement_events_ingest(events=restamped).duplicates == 1
rollup = Counter({(str(d), k, f): n for d, k, f, n in EngagementDaily.objects.values_list("day", "kind", "feature", "count")})
brute = Counter((str(t.date()), k, f) for t, k, f in EngagementEvent.objects.values_list("occurred_at", "kind", "feature"))
assert rollup == brute, (rollup - brute, brute - rollup)
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
