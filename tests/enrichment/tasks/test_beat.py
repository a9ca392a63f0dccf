"""The beat schedule is loaded and its tasks do their job over factory data
(called directly: the schedule's timing is Celery's business)."""

from __future__ import annotations

import datetime as dt

import pytest
from celery.schedules import crontab
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.selectors import customer_external_ids_renewing
from config.celery_app import app as celery_app
from customers.selectors import customer_external_ids_active
from enrichment.engine.service import get_context_service
from enrichment.engine.tasks import (
    refresh_active_contexts,
    refresh_renewing_contexts,
    refresh_stale_external_data,
    snapshot_health_daily,
)
from enrichment.history.models import ContextSnapshot, CustomerHealth, HealthDaily
from enrichment.history.tasks import prune_context_snapshots
from enrichment.vendors.models import ExternalRecord
from tests.billing.factories import SubscriptionFactory
from tests.customers.factories import CustomerFactory
from tests.enrichment.conftest import add_events
from tests.enrichment.external_fixtures import make_customer

pytestmark = pytest.mark.django_db


def test_the_beat_schedule_is_loaded_and_names_registered_tasks():
    celery_app.loader.import_default_modules()
    schedule = celery_app.conf.beat_schedule
    ours = {"refresh-active-contexts", "refresh-renewing-contexts", "refresh-stale-external-data", "snapshot-health-daily"}
    assert ours <= set(schedule)
    for entry in schedule.values():
        assert entry["task"] in celery_app.tasks
    assert schedule["snapshot-health-daily"]["schedule"] == crontab(hour=23, minute=50)
    routes = celery_app.conf.task_routes
    assert routes["enrichment.fetch_*"] == {"queue": "external"} and routes["enrichment.refresh_*"] == {"queue": "refresh"}
    assert celery_app.conf.task_acks_late and celery_app.conf.task_reject_on_worker_lost
    assert celery_app.conf.worker_prefetch_multiplier == 1


def test_recently_active_customers_are_selected_in_one_query_and_refreshed(settings):
    active = CustomerFactory(external_id="active_one")
    SubscriptionFactory(customer=active)
    add_events(active, logins_30d=3)  # within the last hours: today's (or yesterday's) rollup
    idle = CustomerFactory(external_id="idle_one")
    add_events(idle, logins_prev=5)  # a month ago only
    with CaptureQueriesContext(connection) as queries:
        assert customer_external_ids_active(today=timezone.localdate(), days=settings.CONTEXT_REFRESH_ACTIVE_DAYS) == ["active_one"]
    assert len(queries.captured_queries) == 1

    assert refresh_active_contexts.delay().get() == 1
    assert list(CustomerHealth.objects.values_list("customer__external_id", flat=True)) == ["active_one"]
    assert get_context_service().cache.get_l2("active_one")[0] is not None, "the refreshed context is in the shared cache"


def test_customers_renewing_or_ending_a_trial_soon_are_refreshed(settings):
    today = timezone.localdate()
    soon = SubscriptionFactory(customer=CustomerFactory(external_id="renews_soon"), renewal_date=today + dt.timedelta(days=10))
    SubscriptionFactory(customer=CustomerFactory(external_id="renews_later"), renewal_date=today + dt.timedelta(days=90))
    SubscriptionFactory(customer=CustomerFactory(external_id="trial_ends"), trialing=True)
    SubscriptionFactory(customer=CustomerFactory(external_id="canceled_soon"), canceled=True, renewal_date=today + dt.timedelta(days=5))
    assert customer_external_ids_renewing(today=today, days=settings.CONTEXT_REFRESH_RENEWAL_DAYS) == ["renews_soon", "trial_ends"]
    assert soon.customer.external_id == "renews_soon"
    assert refresh_renewing_contexts.delay().get() == 2
    assert set(CustomerHealth.objects.values_list("customer__external_id", flat=True)) == {"renews_soon", "trial_ends"}


def test_stale_external_data_is_fetched_again(vendors_on, settings):
    settings.EXTERNAL_DATA_TTL_HOURS = 24
    missing = make_customer(domain="missing.com", name="Missing")
    stale = make_customer(domain="stale.com", name="Stale")
    fresh = make_customer(domain="fresh.com", name="Fresh")
    make_customer(domain="small.com", name="Small", mrr="10.00", plan="starter")  # not eligible
    long_ago = timezone.now() - dt.timedelta(days=3)
    for vendor in ("clearbit", "crunchbase", "newsapi"):
        ExternalRecord.objects.create(customer=stale, vendor=vendor, status="ok", payload={}, fetched_at=long_ago, checked_at=long_ago)
        ExternalRecord.objects.create(
            customer=fresh, vendor=vendor, status="ok", payload={}, fetched_at=timezone.now(), checked_at=timezone.now()
        )

    assert refresh_stale_external_data.delay().get() == 2
    domains = {c.query.get("domain") for c in vendors_on.calls_to("clearbit")}
    assert domains == {"missing.com", "stale.com"}
    for customer in (missing, stale):
        assert set(ExternalRecord.objects.filter(customer=customer).values_list("status", flat=True)) == {"ok"}
    assert refresh_stale_external_data.delay().get() == 0  # everything fresh now


def test_stale_external_data_does_nothing_without_vendors():
    make_customer()
    assert refresh_stale_external_data.delay().get() == 0


def test_the_daily_health_snapshot_is_stored_idempotently():
    for i in range(3):
        customer = CustomerFactory(external_id=f"snap_{i}")
        SubscriptionFactory(customer=customer)
        add_events(customer, logins_30d=2)
    refresh_active_contexts.delay().get()
    today = timezone.localdate()
    assert snapshot_health_daily.delay().get() == 3
    assert snapshot_health_daily.delay(today.isoformat()).get() == 3
    assert HealthDaily.objects.filter(day=today).count() == 3


def test_old_context_snapshots_are_pruned_keeping_each_customers_latest(settings):
    settings.CONTEXT_SNAPSHOT_RETENTION_DAYS = 30
    now = timezone.now()
    active, quiet = CustomerFactory(external_id="active"), CustomerFactory(external_id="quiet")
    for customer, days_ago in ((active, 60), (active, 41), (active, 1), (quiet, 60), (quiet, 40)):
        ContextSnapshot.objects.create(customer=customer, created_at=now - dt.timedelta(days=days_ago), content_hash=str(days_ago))
    assert prune_context_snapshots.delay().get() == 3
    kept = sorted(ContextSnapshot.objects.values_list("customer__external_id", "content_hash"))
    assert kept == [("active", "1"), ("quiet", "40")]  # the quiet customer keeps its latest as a baseline

    settings.CONTEXT_SNAPSHOT_RETENTION_DAYS = 0
    assert prune_context_snapshots.delay().get() == 0
    assert ContextSnapshot.objects.count() == 2
