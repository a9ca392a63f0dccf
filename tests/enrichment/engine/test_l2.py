"""The shared tier's protocol (enrichment/engine/cache.py, tiers.py): an L2 hit
is one GET, a chunk is written in one round trip and only under the
generation read before computing it, and an entry states when it stops being
fresh."""

from __future__ import annotations

import json

import pytest
import redis
from django.core.cache import caches
from redis.connection import Encoder, PythonRespSerializer

from customers.selectors import customer_ref_get
from enrichment.engine.cache import context_key
from enrichment.engine.service import ContextEnrichmentService
from enrichment.engine.tiers import _JoinedResp
from enrichment.ops.l1 import reset_l1
from tests.enrichment.engine.test_batch import make_customers

pytestmark = pytest.mark.django_db


@pytest.fixture
def commands(monkeypatch):
    """The Redis commands sent, by name."""
    sent: list[str] = []
    original = redis.Redis.execute_command

    def counting(self, *args, **options):
        sent.append(str(args[0]).upper())
        return original(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", counting)
    return sent


def service(settings, **kwargs) -> ContextEnrichmentService:
    return ContextEnrichmentService(enable_caching=True, redis_url=settings.REDIS_URL, cache_ttl=60, **kwargs)


def raw_entry(customer_id: str) -> dict:
    backend = caches["context"]
    raw = backend.client.get_client().get(backend.make_and_validate_key(context_key(customer_id)))
    return json.loads(raw)


def test_an_l2_hit_is_one_get(acme, settings, commands):
    svc = service(settings)
    svc.enrich_context("customer_123")
    reset_l1()
    svc.runner.data_versions()  # the published product status version, memoised for a few seconds per process
    commands.clear()
    ctx = svc.enrich_context("customer_123")
    assert ctx.cache_hit is True and ctx.cache_tier == "l2"
    assert commands == ["GET"]


def test_a_miss_reads_the_generation_and_a_chunk_is_written_in_one_call(acme, settings, commands):
    ids = ["customer_123", *make_customers(3, "w")]
    svc = service(settings)
    svc.runner.data_versions()
    commands.clear()
    svc.enrich_context("customer_123")
    sent = [c for c in commands if c != "SCRIPT"]  # (a SCRIPT LOAD and a retry when Redis had not seen the script)
    assert sent[:3] == ["GET", "MGET", "EVALSHA"] and set(sent[3:]) <= {"EVALSHA"}  # entry, generation, conditional write
    commands.clear()
    svc.refresh_many(ids)
    assert commands.count("MGET") == 1 and commands.count("EVALSHA") == 1 and "SET" not in commands


def test_the_entry_says_when_it_expires_and_which_data_versions_it_was_computed_from(acme, settings):
    ctx = service(settings).enrich_context("customer_123")
    entry = raw_entry("customer_123")
    expiry = min(src.fetched_at.timestamp() + src.ttl for src in ctx.sources.values())
    assert entry["exp"] == pytest.approx(expiry)
    assert entry["ver"] == ";".join(f"{key}={ctx.sources[key].version}" for key in ("product_status", "account_health"))
    assert entry["gen"] is None
    assert entry["context"] == json.loads(json.dumps(ctx.to_dict()))


def test_an_entry_written_after_an_invalidation_it_did_not_see_is_dropped(acme, settings):
    """The write is conditional on the generation read before computing."""
    svc = service(settings)
    svc.enrich_context("customer_123")
    stale_generation = svc.cache.generations(["customer_123"])["customer_123"]
    svc.invalidate_cache("customer_123")
    contexts, _timings = svc.runner.run([customer_ref_get(external_id="customer_123")], started=0.0)
    svc.cache.set_many(contexts, generations={"customer_123": stale_generation})
    assert svc.cache.get_l2("customer_123")[0] is None
    svc.cache.set_many(contexts, generations=svc.cache.generations(["customer_123"]))
    assert svc.cache.get_l2("customer_123")[0] is not None


def test_an_entry_of_the_previous_layout_is_a_miss_and_is_replaced(acme, settings):
    svc = service(settings)
    fresh = svc.enrich_context("customer_123")
    caches["context"].set(context_key("customer_123"), {"gen": None, "context": fresh.to_dict()})  # no "exp"
    reset_l1()
    assert svc.enrich_context("customer_123").cache_hit is False
    assert "exp" in raw_entry("customer_123")


def test_the_chunk_writers_packer_sends_what_redis_py_sends():
    reference = PythonRespSerializer(6000, Encoder("utf-8", "strict", False).encode)
    for args in [("EVALSHA", "0123abcd", 2, "ctx:1", "ctxgen:1", 300, b"", b"x" * 7000), ("SCRIPT LOAD", "return 1"), ("GET", "clé")]:
        assert b"".join(_JoinedResp().pack(*args)) == b"".join(reference.pack(*args))
