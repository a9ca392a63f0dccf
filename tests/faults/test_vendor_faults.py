"""Vendors that hang, throttle, fail or answer garbage while contexts are
requested: no request waits on them (they are only called by Celery tasks),
contexts keep coming within the deadline, and what is wrong shows in the
stored records and the section's source."""

from __future__ import annotations

import threading
import time

import pytest

from enrichment.demo.fake_vendors import Reply
from enrichment.engine.service import ContextEnrichmentService
from enrichment.vendors.models import ExternalRecord
from enrichment.vendors.tasks import fetch_external_enrichment
from tests.enrichment.external_fixtures import make_customer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    "replies, stored",
    [
        ((Reply(hang=5),), "timed out"),  # retries are covered by tests/enrichment/integrations
        ((Reply(429, {"error": {"type": "rate_limit", "message": "Rate limit exceeded."}}),) * 4, "error"),
        ((Reply(500, {"error": {"type": "api_error"}}),) * 4, "error"),
        ((Reply(200, b"{not json", content_type="application/json"),), "error"),
    ],
    ids=["hang", "429", "500", "garbage"],
)
def test_contexts_keep_coming_while_a_vendor_misbehaves(vendors_on, settings, replies, stored):
    settings.ENRICHMENT_DEADLINE_MS = 500
    customer = make_customer(external_id="vendor_victim")
    vendors_on.script("clearbit", *replies)
    service = ContextEnrichmentService(enable_caching=False, enable_external_apis=True)

    fetch = threading.Thread(target=fetch_external_enrichment, args=("vendor_victim",))
    fetch.start()
    try:
        latencies = []
        while fetch.is_alive() and len(latencies) < 200:
            started = time.perf_counter()
            ctx = service.enrich_context("vendor_victim")
            latencies.append(time.perf_counter() - started)
            assert ctx.customer_intelligence.company_name == customer.company_name
            assert ctx.degraded == ()
        assert max(latencies, default=0) < 0.5, "a context request waited on a vendor"
    finally:
        vendors_on.release()
        fetch.join(timeout=30)
    record = ExternalRecord.objects.get(customer=customer, vendor="clearbit")
    if stored == "timed out":  # an error, or ok when a retry came after the hang; either way recorded
        assert record.status in ("ok", "error") and record.attempts >= 1
    else:
        assert record.status == stored and record.error
    ctx = service.enrich_context("vendor_victim")
    assert "clearbit" in ctx.sources["company_enrichment"].source
