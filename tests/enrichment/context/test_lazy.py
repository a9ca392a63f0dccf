"""An L2 hit (LazyEnrichedContext) reads exactly like the context it was made from."""

from __future__ import annotations

import dataclasses
import json

import pytest

from enrichment.context.enriched import EnrichedContext
from enrichment.context.lazy import LazyEnrichedContext
from enrichment.engine.cache import expired_sections, mark_hit, with_latency

pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh(acme, uncached_service):
    return uncached_service.enrich_context("customer_123")


def cached(context: EnrichedContext) -> LazyEnrichedContext:
    return LazyEnrichedContext(json.loads(json.dumps(context.to_dict())), tier="l2")


def test_every_section_decodes_to_the_original(fresh):
    lazy = cached(fresh)
    for field in dataclasses.fields(EnrichedContext):
        if field.name in ("cache_hit", "enrichment_latency_ms", "sources"):
            continue
        assert getattr(lazy, field.name) == getattr(fresh, field.name), field.name
    assert {k: dataclasses.replace(v, tier="computed") for k, v in lazy.sources.items()} == fresh.sources
    assert {s.tier for s in lazy.sources.values()} == {"l2"}
    assert lazy.flags == fresh.flags and lazy.health_breakdown == fresh.health_breakdown


def test_json_summary_and_prompt_match_without_materialising(fresh):
    lazy = cached(fresh)
    as_json = lazy.to_dict()
    assert as_json["cache_hit"] is True
    assert {src["tier"] for src in as_json["sources"].values()} == {"l2"}
    expected = fresh.to_dict()
    for key in ("customer_intelligence", "engagement_metrics", "flags", "health_breakdown", "account_health"):
        assert as_json[key] == expected[key]
    assert lazy.get_summary() == {**fresh.get_summary(), "cache_hit": True}
    assert "customer_intelligence" not in lazy.__dict__  # nothing decoded so far
    assert lazy.to_prompt_context() == fresh.to_prompt_context()


def test_lazy_contexts_are_read_only_and_copy_cheaply(fresh):
    lazy = cached(fresh)
    with pytest.raises(dataclasses.FrozenInstanceError):
        lazy.cache_hit = False
    assert with_latency(lazy, 1.5).enrichment_latency_ms == 1.5
    assert {s.tier for s in mark_hit(lazy, "l1").sources.values()} == {"l1"}
    replaced = lazy.replace(cache_hit=False)
    assert type(replaced) is EnrichedContext and replaced.customer_intelligence == fresh.customer_intelligence
    assert expired_sections(lazy, fresh.enriched_at) == set()
    assert lazy.materialize().to_dict()["customer_intelligence"] == fresh.to_dict()["customer_intelligence"]


def test_a_malformed_cache_entry_is_a_miss(acme, settings):
    from django.core.cache import caches

    from enrichment.engine.cache import context_key
    from enrichment.engine.service import ContextEnrichmentService

    service = ContextEnrichmentService(enable_caching=True, redis_url=settings.REDIS_URL, cache_ttl=60)
    caches["context"].set(context_key("customer_123"), {"garbage": True})
    ctx = service.enrich_context("customer_123")
    assert ctx.cache_hit is False and ctx.customer_intelligence.company_name == "Acme Corp"


def test_a_context_kept_as_its_json_bytes_is_parsed_once_when_first_read(fresh):
    """L1 keeps computed contexts as the bytes written to L2: nothing is parsed
    until a copy is read, then every copy shares the parse."""
    lazy = LazyEnrichedContext(raw=fresh.to_json(), tier="l1")
    copy = with_latency(mark_hit(lazy, "l1"), 2.0)
    assert len(lazy.__dict__["_memo"]) == 1  # the bytes alone: nothing parsed yet
    assert copy.customer_intelligence == fresh.customer_intelligence
    assert lazy.__dict__["_memo"] is copy.__dict__["_memo"]
    expected = json.loads(json.dumps(fresh.to_dict()))
    expected["sources"] = {key: {**source, "tier": "l1"} for key, source in expected["sources"].items()}
    assert lazy.to_dict() == {**expected, "cache_hit": True, "enrichment_latency_ms": 0.0}
    assert lazy.get_summary() == {**fresh.get_summary(), "cache_hit": True}
    assert lazy.to_prompt_context() == fresh.to_prompt_context()
