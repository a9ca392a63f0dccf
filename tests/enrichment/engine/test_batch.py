"""Many contexts at once give the same answers as one at a time, with a
query count that does not grow with the number of customers."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enrichment.context.exceptions import CustomerNotFound, InvalidLookup
from enrichment.engine.service import ContextEnrichmentService
from enrichment.history.models import CustomerHealth
from enrichment.ops.l1 import reset_l1
from tests.billing.factories import InvoiceFactory, SubscriptionFactory
from tests.customers.factories import CustomerFactory
from tests.enrichment.conftest import add_events
from tests.support.factories import TicketFactory

pytestmark = pytest.mark.django_db

VOLATILE = {"enriched_at", "cache_hit", "enrichment_latency_ms", "sources"}


def comparable(ctx) -> dict:
    return {k: v for k, v in ctx.to_dict().items() if k not in VOLATILE}


def make_customers(n: int, prefix: str) -> list[str]:
    ids = []
    for i in range(n):
        customer = CustomerFactory(external_id=f"{prefix}_{i}")
        SubscriptionFactory(customer=customer, past_due=(i % 3 == 0))
        InvoiceFactory(customer=customer, status="failed" if i % 4 == 0 else "paid")
        TicketFactory(customer=customer, priority="urgent" if i % 2 else "normal")
        TicketFactory(customer=customer, solved=True)
        add_events(customer, logins_30d=i * 3, logins_prev=20, features_30d={"reports": i, "tasks": 2})
        ids.append(customer.external_id)
    return ids


def test_batch_contexts_equal_single_contexts(acme):
    ids = ["customer_123", *make_customers(4, "b")]
    service = ContextEnrichmentService(enable_caching=False)
    batch = service.enrich_many(ids)
    for customer_id in ids:
        assert comparable(batch[customer_id]) == comparable(service.enrich_context(customer_id))


def test_query_count_is_independent_of_batch_size():
    """One customer or 25: the same statements (lookup, each provider once, one health write)."""
    service = ContextEnrichmentService(enable_caching=False)
    counts = []
    for ids in (make_customers(1, "o"), make_customers(3, "s"), make_customers(25, "l")):
        with CaptureQueriesContext(connection) as queries:
            results = service.enrich_many(ids)
        assert all(not isinstance(value, Exception) for value in results.values())
        # (less the savepoint that guards a single customer's pipelined statements inside the test's transaction)
        counts.append(sum(1 for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]))
    assert counts[0] == counts[1] == counts[2] <= 10


def test_enrich_many_reports_bad_ids_per_item(acme):
    service = ContextEnrichmentService(enable_caching=False)
    results = service.enrich_many(["customer_123", "nobody", "../bad", "customer_123"])
    assert set(results) == {"customer_123", "nobody", "../bad"}
    assert results["customer_123"].customer_intelligence.company_name == "Acme Corp"
    assert isinstance(results["nobody"], CustomerNotFound)
    assert isinstance(results["../bad"], InvalidLookup)


def test_enrich_many_serves_cache_hits_from_l1_then_l2(acme, settings):
    ids = ["customer_123", *make_customers(3, "c")]
    service = ContextEnrichmentService(enable_caching=True, redis_url=settings.REDIS_URL, cache_ttl=60)
    first = service.enrich_many(ids)
    assert not any(ctx.cache_hit for ctx in first.values())
    second = service.enrich_many(ids)
    assert {s.tier for ctx in second.values() for s in ctx.sources.values()} == {"l1"}
    reset_l1()
    with CaptureQueriesContext(connection) as queries:
        third = service.enrich_many(ids)
    assert len(queries.captured_queries) == 0
    assert {s.tier for ctx in third.values() for s in ctx.sources.values()} == {"l2"}
    assert comparable(third["customer_123"]) == comparable(first["customer_123"])


def test_refresh_all_stores_every_customers_health(acme):
    make_customers(6, "r")
    service = ContextEnrichmentService(enable_caching=False)
    assert service.refresh_all(chunk_size=4) == 7
    assert CustomerHealth.objects.count() == 7
    assert CustomerHealth.objects.get(customer=acme).health_score == 85


def test_a_failing_provider_degrades_its_section_for_the_whole_chunk(acme):
    from enrichment.providers.internal import SupportHistoryProvider
    from enrichment.providers.registry import load_providers

    class Broken(SupportHistoryProvider):
        def fetch_many(self, requests, *, sections):
            raise RuntimeError("tickets unavailable")

    providers = [Broken() if p.key == "support_history" else p for p in load_providers()]
    service = ContextEnrichmentService(enable_caching=False, providers=providers)
    ids = ["customer_123", *make_customers(2, "f")]
    for ctx in service.enrich_many(ids).values():
        assert [(d.section, d.reason) for d in ctx.degraded] == [("support_history", "error: RuntimeError")]
        assert ctx.engagement_metrics.features_available == 8
