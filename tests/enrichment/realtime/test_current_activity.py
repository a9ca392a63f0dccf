"""CurrentActivityProvider: the last 15 minutes of a customer's events, fed
by the ingestion path into Redis sorted sets, with a bounded query fallback."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import EngagementEvent
from customers.recent_activity import KEY_PREFIX, recent_events, redis_client
from customers.services import EventInput, engagement_events_ingest
from enrichment.context.sections import FeatureUsage
from tests.customers.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def ingest(customer, *events, capture):
    """Ingest (kind, feature, minutes ago, contact email) events through the real path."""
    now = timezone.now()
    with capture(execute=True):
        return engagement_events_ingest(
            events=[
                EventInput(
                    event_id=f"{customer.external_id}-{i}-{kind}-{ago}",
                    customer_id=customer.external_id,
                    kind=kind,
                    occurred_at=now - dt.timedelta(minutes=ago),
                    feature=feature,
                    contact_email=email,
                )
                for i, (kind, feature, ago, email) in enumerate(events)
            ]
        )


@pytest.fixture
def acme(db):
    customer = CustomerFactory(external_id="acme_live", domain="acme.com")
    ContactFactory(customer=customer, email="jane@acme.com")
    ContactFactory(customer=customer, email="joe@acme.com")
    return customer


def test_ingested_events_show_in_the_current_activity(acme, uncached_service, django_capture_on_commit_callbacks):
    ingest(
        acme,
        ("login", "", 2, "jane@acme.com"),
        ("feature_use", "reports", 1, "jane@acme.com"),
        ("feature_use", "reports", 1, "joe@acme.com"),
        ("feature_use", "exports", 3, "joe@acme.com"),
        ("error", "exports", 3, "joe@acme.com"),
        ("api_call", "", 4, None),
        ("login", "", 40, "jane@acme.com"),  # outside the 15 minutes
        capture=django_capture_on_commit_callbacks,
    )
    activity = uncached_service.enrich_context("acme_live").current_activity
    assert (activity.window_minutes, activity.source) == (15, "redis")
    assert (activity.events, activity.logins, activity.api_calls, activity.errors) == (6, 1, 1, 1)
    assert activity.active_users == 2
    assert activity.features == (FeatureUsage("reports", 2), FeatureUsage("exports", 1))
    assert activity.error_features == ("exports",)
    assert timezone.now() - activity.last_event_at < dt.timedelta(minutes=2)
    assert uncached_service.enrich_context("acme_live").sources["current_activity"].source == "redis"


def test_redis_read_is_one_round_trip_and_no_query(acme, uncached_service, django_capture_on_commit_callbacks):
    ingest(acme, ("login", "", 1, "jane@acme.com"), capture=django_capture_on_commit_callbacks)
    with CaptureQueriesContext(connection) as queries:
        found, source = recent_events(customer_pks=[acme.pk], now=timezone.now())
    assert source == "redis" and len(found[acme.pk]) == 1
    assert queries.captured_queries == []


def test_the_sets_are_trimmed_to_the_window_and_the_cap(acme, settings, django_capture_on_commit_callbacks):
    settings.CURRENT_ACTIVITY_MAX_EVENTS = 5
    ingest(acme, *[("feature_use", "tasks", 1, None) for _ in range(12)], capture=django_capture_on_commit_callbacks)
    ingest(acme, ("login", "", 120, None), capture=django_capture_on_commit_callbacks)  # too old: never written
    client = redis_client()
    assert client.zcard(f"{KEY_PREFIX}{acme.pk}") == 5
    assert 0 < client.ttl(f"{KEY_PREFIX}{acme.pk}") <= 16 * 60


def test_nothing_is_recorded_when_the_ingest_rolls_back(acme):
    # Without running the on-commit callbacks (the test's transaction never commits).
    engagement_events_ingest(
        events=[EventInput(event_id="x1", customer_id="acme_live", kind="login", occurred_at=timezone.now(), feature="")]
    )
    assert redis_client().zcard(f"{KEY_PREFIX}{acme.pk}") == 0


def test_ingestion_invalidates_the_cached_context_so_activity_shows_at_once(acme, shared_service, django_capture_on_commit_callbacks):
    assert shared_service.enrich_context("acme_live").current_activity.events == 0
    assert shared_service.enrich_context("acme_live").cache_hit is True
    ingest(acme, ("feature_use", "reports", 1, "jane@acme.com"), capture=django_capture_on_commit_callbacks)
    ctx = shared_service.enrich_context("acme_live")
    assert ctx.cache_hit is False and ctx.current_activity.events == 1


def test_without_redis_a_bounded_query_answers(acme, settings, uncached_service):
    settings.REDIS_URL = None  # the embedded default: no live store
    now = timezone.now()
    jane = acme.contacts.get(email="jane@acme.com")
    EngagementEvent.objects.bulk_create(
        [
            EngagementEvent(customer=acme, contact=jane, kind="feature_use", feature="reports", occurred_at=now - dt.timedelta(minutes=3)),
            EngagementEvent(customer=acme, contact=jane, kind="error", feature="reports", occurred_at=now - dt.timedelta(minutes=2)),
            EngagementEvent(customer=acme, kind="login", occurred_at=now - dt.timedelta(days=3)),
        ]
    )
    with CaptureQueriesContext(connection) as queries:
        found, source = recent_events(customer_pks=[acme.pk], now=now)
    assert source == "database" and len(found[acme.pk]) == 2
    (query,) = queries.captured_queries
    sql = query["sql"]
    # the known kinds, occurred_at >= : one short range of the (customer, occurred_at)
    # index, never the customer's whole history.
    assert '"kind" IN (' in sql and '"occurred_at" >=' in sql and "LIMIT" in sql
    activity = uncached_service.enrich_context("acme_live").current_activity
    assert (activity.source, activity.events, activity.errors, activity.active_users) == ("database", 2, 1, 1)


def test_the_fallback_never_scans_the_customers_history(acme):
    """With statistics (a few thousand events over months), the fallback's
    plan bounds the scan by time: ``occurred_at`` is an index condition
    (the (customer, occurred_at) or the (occurred_at) index), never a
    filter applied to all of the customer's rows."""
    from customers.models import EngagementKind

    other = CustomerFactory(external_id="other_live")
    now = timezone.now()
    kinds = EngagementKind.values
    EngagementEvent.objects.bulk_create(
        [
            EngagementEvent(customer=acme if i % 2 else other, kind=kinds[i % len(kinds)], occurred_at=now - dt.timedelta(minutes=7 * i))
            for i in range(8000)
        ],
        batch_size=4000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_engagementevent")
    since = now - dt.timedelta(minutes=15)
    plan = (
        EngagementEvent.objects.filter(customer_id__in=[acme.pk], kind__in=kinds, occurred_at__gte=since)
        .order_by("-occurred_at")
        .values_list("customer_id", "kind", "feature", "contact_id", "occurred_at")[:1000]
        .explain()
    )
    conditions = [line for line in plan.splitlines() if "Index Cond" in line]
    assert conditions and all("occurred_at" in line for line in conditions), plan
    from customers.recent_activity import _from_database

    assert len(_from_database([acme.pk], since, 1000)[acme.pk]) == 1  # the event 7 minutes ago
