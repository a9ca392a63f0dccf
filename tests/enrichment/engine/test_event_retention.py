"""The whole context, before and after the retention drops the old monthly
partitions of the raw events (customers/partitions.py): the same JSON and
prompt, and the same requester part, for accounts whose activity is recent."""

from __future__ import annotations

import pytest
from django.utils import timezone

from customers.partitions import events_retention_apply
from customers.selectors import contact_get
from enrichment.engine.requester import requester_build
from enrichment.engine.service import ContextEnrichmentService
from tests.customers.partition_data import history

pytestmark = pytest.mark.django_db
VOLATILE = ("enriched_at", "enrichment_latency_ms", "sources", "cache_hit", "context_id")


def contexts(external_ids: list[str]) -> dict:
    service = ContextEnrichmentService(enable_caching=False)
    found = {}
    for external_id in external_ids:
        context = service.enrich_context(external_id)
        data = {k: v for k, v in context.to_dict().items() if k not in VOLATILE}
        found[external_id] = (data, context.to_prompt_context())
    return found


def test_contexts_and_requesters_are_the_same_after_old_partitions_are_dropped():
    now = timezone.now()
    h = history(now)
    before = contexts(["busy", "fresh"])
    requester_before = requester_build(contact=contact_get(pk=h.busy_contact.pk), now=now)
    assert before["busy"][0]["engagement_metrics"]["login_count_30d"] >= 29

    applied = events_retention_apply(now=now, months=3)

    assert applied.dropped and applied.rows > 300
    assert contexts(["busy", "fresh"]) == before
    assert requester_build(contact=contact_get(pk=h.busy_contact.pk), now=now) == requester_before
