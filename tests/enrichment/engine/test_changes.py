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
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_redis.cache import RedisCache

from billing.models import Invoice, Plan, Subscription
from customers.models import Contact, Customer, CustomerDataChange, EngagementEvent
from enrichment.engine.changes import ChangeListener, context_changes_apply
from enrichment.engine.service import get_context_service
from enrichment.engine.tiers import L2Unavailable
from support.models import Ticket
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
