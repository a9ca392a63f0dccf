"""POST /api/v1/events/: validation, idempotency, all or nothing."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db.models import Sum
from django.utils import timezone

from customers.models import EngagementDaily, EngagementEvent
from customers.partitions import events_retention_cutoff
from tests.enrichment.api.helpers import ACME, assert_error

pytestmark = pytest.mark.django_db

URL = "/api/v1/events/"


def _event(n: int, **overrides) -> dict:
    occurred = timezone.now() - dt.timedelta(hours=n % 48 + 1)
    event = {
        "event_id": f"evt-test-{n}",
        "customer_id": ACME,
        "kind": "feature_use" if n % 2 else "login",
        "feature": "reports" if n % 2 else "",
        "occurred_at": occurred.isoformat().replace("+00:00", "Z"),
        "contact_email": "jane@acme.com",
    }
    event.update(overrides)
    return event


def _rollup_total() -> int:
    return EngagementDaily.objects.filter(customer__external_id=ACME).aggregate(n=Sum("count"))["n"] or 0


def test_ingest_is_idempotent(demo, api):
    events = [_event(i) for i in range(20)]
    before_events = EngagementEvent.objects.filter(customer__external_id=ACME).count()
    before_rollup = _rollup_total()

    first = api.post(URL, {"events": events}, format="json")
    assert first.status_code == 200, first.content
    assert first.json() == {"received": 20, "created": 20, "duplicates": 0}
    assert EngagementEvent.objects.filter(customer__external_id=ACME).count() == before_events + 20
    assert _rollup_total() == before_rollup + 20
    stored = EngagementEvent.objects.get(event_id="evt-test-1")
    assert stored.contact.email == "jane@acme.com" and stored.feature == "reports"

    second = api.post(URL, {"events": events}, format="json")
    assert second.json() == {"received": 20, "created": 0, "duplicates": 20}
    assert EngagementEvent.objects.filter(customer__external_id=ACME).count() == before_events + 20
    assert _rollup_total() == before_rollup + 20


def test_repeats_inside_one_request_are_stored_once(demo, api):
    response = api.post(URL, {"events": [_event(1), _event(1), _event(2)]}, format="json")
    assert response.json() == {"received": 3, "created": 2, "duplicates": 1}


def test_unknown_customer_rejects_the_whole_batch(demo, api):
    before = EngagementEvent.objects.count()
    events = [_event(1), _event(2, customer_id="ghost_a"), _event(3, customer_id="ghost_b")]
    error = assert_error(api.post(URL, {"events": events}, format="json"), 400, "unknown_customers")
    assert error["details"] == {"customer_ids": ["ghost_a", "ghost_b"]}
    assert "ghost_a" in error["message"]
    assert EngagementEvent.objects.count() == before
    assert not EngagementEvent.objects.filter(event_id="evt-test-1").exists()


def test_1000_events_accepted_1001_rejected(demo, api):
    events = [_event(i) for i in range(1000)]
    response = api.post(URL, {"events": events}, format="json")
    assert response.status_code == 200 and response.json()["created"] == 1000
    before = EngagementEvent.objects.count()
    error = assert_error(api.post(URL, {"events": [*events, _event(5000)]}, format="json"), 400, "batch_too_large")
    assert "1000" in error["message"] and "1001" in error["message"]
    assert EngagementEvent.objects.count() == before


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"kind": "purchase"}, "kind"),
        ({"occurred_at": "2025-01-01T10:00:00"}, "occurred_at"),  # naive
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"occurred_at": "2999-01-01T00:00:00Z"}, "occurred_at"),
        ({"occurred_at": "1970-01-01T00:00:00Z"}, "occurred_at"),
        ({"occurred_at": "2025-13-45T99:00:00Z"}, "occurred_at"),
        ({"event_id": "x" * 101}, "event_id"),
        ({"event_id": ""}, "event_id"),
        ({"event_id": "a\x00b"}, "event_id"),
        ({"feature": "f" * 65}, "feature"),
        ({"customer_id": "../etc"}, "customer_id"),
        ({"customer_id": "c" * 65}, "customer_id"),
        ({"contact_email": "not-an-email"}, "contact_email"),
    ],
)
def test_invalid_events(demo, api, override, field):
    before = EngagementEvent.objects.count()
    events = [_event(1), _event(2, **override)]
    body = json.dumps({"events": events})  # ASCII with \u escapes, so lone surrogates go through
    error = assert_error(api.post(URL, data=body, content_type="application/json"), 400, "invalid_request")
    assert field in error["details"]["events"]["1"], error
    assert EngagementEvent.objects.count() == before


@pytest.mark.parametrize("field, value", [("event_id", "\ud800"), ("feature", "re\udfffports"), ("kind", "\udc00")])
def test_lone_surrogates_are_rejected_before_any_use_with_where_they_are(demo, api, field, value):
    before = EngagementEvent.objects.count()
    body = json.dumps({"events": [_event(1), _event(2, **{field: value})]})  # ASCII with \u escapes: the surrogate goes through
    error = assert_error(api.post(URL, data=body, content_type="application/json"), 400, "invalid_unicode")
    assert error["details"] == {"path": f"events.1.{field}"}
    assert EngagementEvent.objects.count() == before


@pytest.mark.parametrize("body", [{}, {"events": []}, {"events": "nope"}, {"events": [1, 2]}])
def test_invalid_bodies(demo, api, body):
    assert_error(api.post(URL, body, format="json"), 400, "invalid_request")


def test_optional_fields(demo, api):
    event = {"event_id": "evt-min", "customer_id": ACME, "kind": "login", "occurred_at": "2025-06-01T08:00:00+02:00"}
    assert api.post(URL, {"events": [event]}, format="json").json()["created"] == 1
    stored = EngagementEvent.objects.get(event_id="evt-min")
    assert stored.contact is None and stored.feature == ""
    assert stored.occurred_at == dt.datetime(2025, 6, 1, 6, 0, tzinfo=dt.UTC)


def test_ingested_events_invalidate_the_cached_context_after_commit(demo, api, django_capture_on_commit_callbacks):
    """customers sends customer_data_changed (it imports nothing from enrichment);
    enrichment's receiver drops the cached context once the events are committed."""
    from enrichment.engine.service import get_context_service

    service = get_context_service()
    before = service.enrich_context(ACME).engagement_metrics.login_count_30d
    assert service.cache.get_l2(ACME)[0] is not None
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(URL, {"events": [_event(2 * i) for i in range(3)]}, format="json")  # three logins
    assert response.json()["created"] == 3
    assert service.cache.get_l2(ACME)[0] is None, "the shared cache entry is gone"
    assert service.cache.get_l1(ACME) is None, "and this process's copy"
    assert service.enrich_context(ACME).engagement_metrics.login_count_30d == before + 3


def test_a_request_that_stores_nothing_new_invalidates_nothing(demo, api, django_capture_on_commit_callbacks):
    from enrichment.engine.service import get_context_service

    events = [_event(1)]
    api.post(URL, {"events": events}, format="json")
    service = get_context_service()
    service.enrich_context(ACME)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert api.post(URL, {"events": events}, format="json").json()["created"] == 0
    assert service.cache.get_l2(ACME)[0] is not None
    assert not [cb for cb in callbacks if "invalidate" in getattr(cb, "__qualname__", "")]


def test_with_the_retention_on_an_event_older_than_it_rejects_the_batch(demo, api, settings):
    """EVENTS_RETENTION_MONTHS: an event in a month already dropped is a 400 in the API's shape; nothing is stored."""
    settings.EVENTS_RETENTION_MONTHS = 3
    too_old = (timezone.now() - dt.timedelta(days=200)).isoformat().replace("+00:00", "Z")
    before = EngagementEvent.objects.count()
    events = [_event(1), _event(2, occurred_at=too_old)]
    error = assert_error(api.post(URL, {"events": events}, format="json"), 400, "invalid_request")
    cutoff = events_retention_cutoff(now=timezone.now(), months=3).date().isoformat()
    assert error["details"] == {"events": {"1": {"occurred_at": [f"is before {cutoff}"]}}}
    assert EngagementEvent.objects.count() == before
    settings.EVENTS_RETENTION_MONTHS = 0  # off (the default): the same event is stored
    assert api.post(URL, {"events": events}, format="json").json() == {"received": 2, "created": 2, "duplicates": 0}
