"""Invalidation from any writer: the database records every change to the
rows a context is built from (customers/triggers.py) and the change listener
invalidates (enrichment/engine/changes.py). Nothing here goes through Django
signals: ``update()``, ``bulk_create``, raw SQL and another process."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_redis.cache import RedisCache

from billing.models import Invoice, Plan, Subscription
from customers.models import Contact, Customer, CustomerDataChange, EngagementEvent
from enrichment.engine.changes import ChangeListener, context_changes_apply
from enrichment.engine.service import get_context_service
from enrichment.engine.tasks import apply_context_changes
from enrichment.engine.tiers import L2Unavailable
from support.models import Ticket
from tests.enrichment.realtime.test_metrics import scrape
from tests.support.factories import TicketFactory

ROOT = Path(__file__).resolve().parents[3]


def changed() -> set[str]:
    return set(CustomerDataChange.objects.values_list("external_id", flat=True))


def _ticket_update(c):
    Ticket.objects.filter(customer=c).update(status="solved")


def _subscription_update(c):
    Subscription.objects.filter(customer=c).update(seats_used=1)


def _invoice_delete(c):
    Invoice.objects.filter(customer=c).delete()


def _contact_bulk_create(c):
    Contact.objects.bulk_create([Contact(customer=c, email="bulk@acme.com")])


def _customer_update(c):
    Customer.objects.filter(pk=c.pk).update(account_owner="Someone Else")


def _plan_update(c):
    Plan.objects.filter(subscriptions__customer=c).update(name="Premium 2027")


def _events_raw_sql(c):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO customers_engagementevent (customer_id, kind, feature, occurred_at) VALUES (%s, 'login', '', now())", [c.pk]
        )


def _events_delete(c):
    EngagementEvent.objects.filter(customer=c).delete()


@pytest.mark.parametrize(
    "write",
    [_ticket_update, _subscription_update, _invoice_delete, _contact_bulk_create, _customer_update, _plan_update, _events_raw_sql,
     _events_delete],
)  # fmt: skip
def test_every_writer_leaves_a_change_for_the_customer(acme, write):
    CustomerDataChange.objects.all().delete()
    write(acme)
    assert changed() == {"customer_123"}


def test_deleting_a_customer_records_its_external_id(acme):
    CustomerDataChange.objects.all().delete()
    acme.delete()
    assert changed() == {"customer_123"}


def test_applying_changes_invalidates_what_update_made_stale(acme):
    service = get_context_service()
    TicketFactory(customer=acme, priority="urgent", status="open")
    assert service.enrich_context("customer_123").support_history.urgent_open_tickets == 1
    Ticket.objects.filter(customer=acme, priority="urgent").update(status="solved")  # no signal
    assert service.enrich_context("customer_123").cache_hit  # still the old context...
    assert context_changes_apply() == 1
    fresh = service.enrich_context("customer_123")
    assert not fresh.cache_hit
    assert fresh.support_history.urgent_open_tickets == 0
    assert not CustomerDataChange.objects.exists()


def test_changes_stay_recorded_when_the_cache_cannot_be_written(acme, monkeypatch):
    service = get_context_service()
    service.enrich_context("customer_123")
    CustomerDataChange.objects.all().delete()
    Subscription.objects.filter(customer=acme).update(seats_used=2)
    dead = RedisCache("redis://127.0.0.1:1/0", {"OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2}})
    monkeypatch.setattr(service.cache.l2, "backend", dead)
    with pytest.raises(L2Unavailable):
        context_changes_apply()
    assert changed() == {"customer_123"}  # kept for the next attempt
    monkeypatch.undo()
    service.cache.l2._down = False
    assert context_changes_apply() == 1
    assert service.enrich_context("customer_123").subscription_details.seats_used == 2


WRITER = """
import sys, psycopg
with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    conn.execute("UPDATE support_ticket SET status = 'solved' WHERE customer_id = %s AND priority = 'urgent'", (int(sys.argv[2]),))
"""


@pytest.fixture
def listener_process(transactional_db):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
    }
    proc = subprocess.Popen([sys.executable, "manage.py", "context_changes_listen", "--poll", "5"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    line = proc.stdout.readline()  # "context_changes_listening": LISTEN is about to be issued
    assert "context_changes_listening" in line, line
    time.sleep(0.5)
    yield proc
    proc.terminate()
    proc.wait(timeout=10)


@pytest.mark.django_db(transaction=True)
def test_a_write_from_another_process_reaches_readers_within_two_seconds(acme, listener_process):
    """Another service updates the tickets over its own connection; the
    listener (a real ``context_changes_listen`` process, woken by NOTIFY:
    its poll is 5 s here) invalidates; this process, holding the old context
    in L1 and L2, serves the new one within the documented bound."""
    service = get_context_service()
    TicketFactory(customer=acme, priority="urgent", status="open", created_at=timezone.now() - dt.timedelta(hours=1))
    CustomerDataChange.objects.all().delete()
    service.invalidate_cache("customer_123")
    assert service.enrich_context("customer_123").support_history.urgent_open_tickets == 1
    assert service.enrich_context("customer_123").cache_hit
    dsn = f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}"
    subprocess.run([sys.executable, "-c", WRITER, dsn, str(acme.pk)], check=True, timeout=30)
    committed = time.monotonic()
    while service.enrich_context("customer_123").support_history.urgent_open_tickets != 0:
        assert time.monotonic() - committed < 2.0, "the change did not reach this reader within 2 s"
        time.sleep(0.01)
    delay = time.monotonic() - committed
    print(f"invalidation delay from another process: {delay * 1000:.0f} ms")
    assert delay < settings.CONTEXT_L1_TTL + 0.5


@pytest.mark.django_db(transaction=True)
def test_the_listener_thread_applies_changes_and_stops(acme):
    listener = ChangeListener(poll_seconds=0.2)
    thread = listener.start_thread()
    try:
        Subscription.objects.filter(customer=acme).update(mrr=Decimal("1.00"))
        deadline = time.monotonic() + 3
        while CustomerDataChange.objects.exists():
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        listener.stop()
        thread.join(timeout=5)
    assert not thread.is_alive()


def test_the_backlog_is_on_the_metrics_endpoint(acme, client):
    CustomerDataChange.objects.all().delete()
    Subscription.objects.filter(customer=acme).update(seats_used=3)
    CustomerDataChange.objects.update(changed_at=timezone.now() - dt.timedelta(minutes=5))
    text = scrape(client)
    assert "enrichment_context_changes_pending 1.0" in text
    oldest = float(next(line.split()[1] for line in text.splitlines() if line.startswith("enrichment_context_changes_oldest_seconds ")))
    assert 299 < oldest < 400
    context_changes_apply()
    assert "enrichment_context_changes_pending 0.0" in scrape(client)


def test_beat_backstop_and_the_once_command_apply_pending_changes(acme):
    service = get_context_service()
    TicketFactory(customer=acme, priority="urgent", status="open")
    assert service.enrich_context("customer_123").support_history.urgent_open_tickets == 1
    Ticket.objects.filter(customer=acme, priority="urgent").update(status="solved")
    assert apply_context_changes.delay().get() == 1  # the beat task (eager here)
    assert service.enrich_context("customer_123").support_history.urgent_open_tickets == 0
    Ticket.objects.filter(customer=acme, priority="urgent").update(status="open")
    out = StringIO()
    call_command("context_changes_listen", "--once", stdout=out)
    assert out.getvalue().strip() == "Invalidated 1 customer context(s)."
    assert service.enrich_context("customer_123").support_history.urgent_open_tickets == 1


EMBEDDED = r"""
import sqlite3, sys, time
import config.wsgi  # the web process: starts the in-process listener (CONTEXT_CHANGES_IN_PROCESS)
from enrichment.engine.service import get_context_service
from enrichment.engine.tasks import apply_context_changes
service = get_context_service()
before = service.enrich_context("lite").support_history.open_tickets
db = sqlite3.connect(sys.argv[1])  # another writer, behind Django's back
db.execute("UPDATE support_ticket SET status = 'solved'")
db.commit()
started = time.monotonic()
while service.enrich_context("lite").support_history.open_tickets != 0:  # L1 lives 60 s here
    assert time.monotonic() - started < 5, "not applied"
    time.sleep(0.05)
pending = db.execute("SELECT count(*) FROM customers_customerdatachange").fetchone()[0]
print("embedded ok", before, pending, round(time.monotonic() - started, 2))
"""

SETUP = r"""
import datetime as dt
from customers.models import Customer
from support.models import Ticket
c = Customer.objects.create(external_id="lite", company_name="Lite", customer_since=dt.date(2024, 1, 1))
Ticket.objects.create(customer=c, subject="Help", status="open", priority="normal", created_at=dt.datetime.now(dt.UTC))
"""


def test_the_embedded_default_applies_changes_in_the_web_process(tmp_path):
    """SQLite and an in-process cache: the web process runs the listener in a
    thread (config/wsgi.py), so a write behind Django's back reaches it."""
    db = tmp_path / "embedded.sqlite3"
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "DATABASE_URL", "CONTEXT_CHANGES_IN_PROCESS")}
    env |= {"DATABASE_URL": f"sqlite:///{db}", "DJANGO_SETTINGS_MODULE": "config.settings.local", "CONTEXT_CHANGES_POLL_SECONDS": "0.2",
            "CONTEXT_L1_TTL": "60"}  # so only the listener can make the change visible  # fmt: skip
    for args in (["manage.py", "migrate", "--noinput", "-v0"], ["manage.py", "shell", "-c", SETUP], ["-c", EMBEDDED, str(db)]):
        done = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-3000:]
    assert "embedded ok 1 0 " in done.stdout  # one open ticket before, the change log drained after
