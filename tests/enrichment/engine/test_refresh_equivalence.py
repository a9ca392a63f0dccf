"""A batch refresh (``refresh_many``: chunks, set-based queries, one Redis
write per chunk, health written in the background) stores exactly the
contexts that refreshing the customers one by one stores, for the whole demo
set: every account shape the demo seeds (trials, canceled and at-risk
accounts, incidents, tickets, engagement)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from customers.models import Customer
from enrichment.engine.service import ContextEnrichmentService
from enrichment.history.models import CustomerHealth
from enrichment.ops.l1 import reset_l1

pytestmark = pytest.mark.django_db

TIMING = {"enriched_at", "enrichment_latency_ms", "cache_hit"}
SOURCE_TIMING = {"fetched_at", "latency_ms", "tier"}


def comparable(context) -> dict:
    """The context's JSON without the moment and duration of its computation."""
    data = {key: value for key, value in context.to_dict().items() if key not in TIMING}
    data["sources"] = {key: {k: v for k, v in src.items() if k not in SOURCE_TIMING} for key, src in data["sources"].items()}
    return data


def test_refresh_many_stores_what_one_by_one_refreshes_store_for_the_demo_set(settings):
    call_command("seed_demo", customers=12, stdout=StringIO())
    ids = list(Customer.objects.order_by("pk").values_list("external_id", flat=True))
    service = ContextEnrichmentService(enable_caching=True, redis_url=settings.REDIS_URL, cache_ttl=60)
    one_by_one = {cid: comparable(service.enrich_context(cid, force_refresh=True)) for cid in ids}
    health_one_by_one = dict(CustomerHealth.objects.values_list("customer__external_id", "content_hash"))

    assert service.refresh_many(ids, chunk_size=7) == len(ids)  # several chunks
    reset_l1()
    for cid in ids:
        cached = service.cache.get_l2(cid)[0]
        assert cached is not None, cid
        assert comparable(cached) == one_by_one[cid], cid
    assert dict(CustomerHealth.objects.values_list("customer__external_id", "content_hash")) == health_one_by_one
    batch = service.enrich_many(ids, force_refresh=True)
    assert {cid: comparable(ctx) for cid, ctx in batch.items()} == one_by_one
