"""/metrics: exposed for Prometheus, protected, and counting."""

from __future__ import annotations

import re

import pytest

from enrichment.ops import metrics
from enrichment.ops.l1 import reset_l1
from tests.enrichment.realtime.conftest import make_customer

pytestmark = pytest.mark.django_db


def sample(text: str, name: str, **labels) -> float:
    """The value of one sample in the exposition text (0 when absent)."""
    for line in text.splitlines():
        match = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? ([0-9.e+-]+|NaN)", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
        if found == {key: str(value) for key, value in labels.items()}:
            return float(match.group(3))
    return 0.0


def scrape(client, **extra) -> str:
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def test_from_localhost_without_a_token(client, settings):
    settings.METRICS_TOKEN = None
    text = scrape(client)  # the test client's REMOTE_ADDR is 127.0.0.1
    for name in (
        "enrichment_context_requests_total",
        "enrichment_cache_hit_ratio",
        "enrichment_vendor_circuit_state",
        "# TYPE enrichment_context_seconds histogram",
        "# TYPE enrichment_provider_seconds histogram",
        "# TYPE enrichment_degraded_sections_total counter",
    ):
        assert name in text, name


def test_remote_callers_need_the_bearer_token(client, settings):
    settings.METRICS_TOKEN = None
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 403
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 403  # through a local proxy
    settings.METRICS_TOKEN = "s3cret-metrics"
    denied = client.get("/metrics", REMOTE_ADDR="10.1.2.3")
    assert denied.status_code == 401 and denied["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401  # a wrong token is wrong anywhere
    scrape(client, REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION="Bearer s3cret-metrics")
    settings.METRICS_ALLOW_LOCALHOST = False
    assert client.get("/metrics").status_code == 401
    assert client.post("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics").status_code == 405


def test_context_requests_are_counted_per_tier(client, shared_service):
    make_customer(external_id="counted")
    before = scrape(client)
    shared_service.enrich_context("counted")  # computed
    shared_service.enrich_context("counted")  # l1
    reset_l1()
    shared_service.enrich_context("counted")  # l2
    after = scrape(client)

    def delta(name, tier):
        return sample(after, name, tier=tier) - sample(before, name, tier=tier)

    requests = "enrichment_context_requests_total"
    assert (delta(requests, "computed"), delta(requests, "l1"), delta(requests, "l2")) == (1, 1, 1)
    assert delta("enrichment_context_seconds_count", "computed") == 1
    provider = "enrichment_provider_seconds_count"
    assert sample(after, provider, provider="ProductStatusProvider") > sample(before, provider, provider="ProductStatusProvider")
    assert 0 < sample(after, "enrichment_cache_hit_ratio") < 1


def test_degraded_sections_are_counted(client, uncached_service):
    from enrichment.context.sections import CurrentActivity
    from enrichment.engine.service import ContextEnrichmentService
    from enrichment.providers.base import ContextProvider
    from enrichment.providers.registry import load_providers

    class Broken(ContextProvider):
        key = "current_activity"
        section = CurrentActivity

        def fetch(self, request, *, sections):
            raise RuntimeError("redis is on fire")

    make_customer(external_id="degraded")
    providers = [p for p in load_providers() if p.key != "current_activity"] + [Broken()]
    before = sample(scrape(client), "enrichment_degraded_sections_total", section="current_activity", reason="error")
    ContextEnrichmentService(enable_caching=False, providers=providers).enrich_context("degraded")
    after = sample(scrape(client), "enrichment_degraded_sections_total", section="current_activity", reason="error")
    assert after == before + 1


def test_vendor_task_outcomes_and_circuits(client, settings):
    from enrichment.vendors.circuit import CircuitBreaker
    from enrichment.vendors.tasks import fetch_vendor_data

    customer = make_customer(external_id="vendor_counted")
    fetch_vendor_data.delay(customer.pk, "clearbit")  # eager: no key configured -> "not configured"
    metrics.record_vendor_outcome("newsapi", "ok")
    breaker = CircuitBreaker("crunchbase", failure_threshold=1)
    breaker.record_failure()
    text = scrape(client)
    assert sample(text, "enrichment_vendor_task_outcomes_total", vendor="clearbit", outcome="not_configured") == 1
    assert sample(text, "enrichment_vendor_task_outcomes_total", vendor="newsapi", outcome="ok") == 1
    assert sample(text, "enrichment_vendor_circuit_state", vendor="crunchbase") == 2  # open
    assert sample(text, "enrichment_vendor_circuit_state", vendor="clearbit") == 0
    assert sample(text, "enrichment_vendor_circuit_failures", vendor="crunchbase") == 1


def test_the_l1_path_only_bumps_a_plain_integer(shared_service):
    """No metrics call on an L1 hit beyond an int increment (and one sampled
    histogram observation every L1_SAMPLE hits)."""
    import time

    make_customer(external_id="hot")
    shared_service.enrich_context("hot")
    n = 20_000
    before = metrics.TIER_COUNTS[metrics.L1]
    started = time.perf_counter()
    for _ in range(n):
        shared_service.enrich_context("hot")
    per_call_us = (time.perf_counter() - started) / n * 1e6
    assert metrics.TIER_COUNTS[metrics.L1] - before == n
    assert per_call_us < 50  # a generous ceiling on a shared machine; the benchmark measures the real figure
