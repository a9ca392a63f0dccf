"""The latest health is written off the request path on PostgreSQL."""

from __future__ import annotations

import time

import pytest

from enrichment.engine.service import ContextEnrichmentService
from enrichment.history.models import CustomerHealth
from enrichment.history.writer import health_flush

pytestmark = pytest.mark.django_db(transaction=True)


def test_deferred_writes_land_within_the_flush_interval(acme, settings):
    settings.ENRICHMENT_HEALTH_WRITES = "auto"
    settings.ENRICHMENT_HEALTH_FLUSH_SECONDS = 0.2
    health_flush()
    from enrichment.history import writer as health_writer

    health_writer._WRITER = None  # a writer with this test's interval
    ContextEnrichmentService(enable_caching=False).enrich_context("customer_123")
    deadline = time.monotonic() + 3
    while not CustomerHealth.objects.filter(customer=acme).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    row = CustomerHealth.objects.get(customer=acme)
    assert (row.health_score, row.green_flags) == (85, 2)


def test_the_latest_context_of_a_customer_wins_and_flush_writes_everything(acme, settings):
    settings.ENRICHMENT_HEALTH_WRITES = "auto"
    settings.ENRICHMENT_HEALTH_FLUSH_SECONDS = 60  # only an explicit flush writes
    from enrichment.history import writer as health_writer

    health_writer._WRITER = None
    service = ContextEnrichmentService(enable_caching=False)
    service.enrich_context("customer_123")
    service.enrich_context("customer_123")
    assert not CustomerHealth.objects.filter(customer=acme).exists()
    assert health_flush() == 1
    assert CustomerHealth.objects.get(customer=acme).health_score == 85
    health_writer._WRITER = None


def test_inline_mode_writes_in_the_request(acme, settings):
    settings.ENRICHMENT_HEALTH_WRITES = "inline"
    ContextEnrichmentService(enable_caching=False).enrich_context("customer_123")
    assert CustomerHealth.objects.get(customer=acme).health_score == 85


def test_a_refresh_chunk_as_large_as_the_queue_is_written_at_once(acme, settings, monkeypatch):
    """Deferred mode queues a request's rows, but a refresh chunk of at least
    MAX_PENDING rows is written in the same call (one statement)."""
    from enrichment.history import writer as health_writer
    from tests.enrichment.engine.test_batch import make_customers

    settings.ENRICHMENT_HEALTH_WRITES = "auto"
    settings.ENRICHMENT_HEALTH_FLUSH_SECONDS = 60  # the background flush never runs during the test
    health_writer._WRITER = None
    monkeypatch.setattr(health_writer, "MAX_PENDING", 3)
    service = ContextEnrichmentService(enable_caching=False)
    small = make_customers(2, "small")
    service.enrich_many(small)
    assert not CustomerHealth.objects.filter(customer__external_id__in=small).exists(), "a small batch is queued"
    large = make_customers(3, "large")
    service.enrich_many(large)
    assert CustomerHealth.objects.filter(customer__external_id__in=large).count() == 3
    assert health_flush() == 2
    health_writer._WRITER = None
