"""Forced refreshes (the admin action, the Celery tasks, the CLI) go through
the engine's one path: chunks computed together, bad ids skipped."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enrichment.engine.service import get_context_service
from enrichment.engine.services import contexts_refresh
from enrichment.engine.tasks import refresh_contexts
from enrichment.history.models import CustomerHealth
from tests.enrichment.engine.test_batch import make_customers

pytestmark = pytest.mark.django_db


def test_contexts_refresh_skips_bad_ids_and_counts_the_rest():
    ids = make_customers(3, "r")
    assert contexts_refresh(customer_ids=[*ids, "nobody_here", "../bad", ids[0]]) == 3
    assert CustomerHealth.objects.filter(customer__external_id__in=ids).count() == 3


def test_refresh_queries_do_not_grow_with_the_number_of_customers():
    few, many = make_customers(2, "f"), make_customers(10, "m")
    counts = []
    for ids in (few, many):
        with CaptureQueriesContext(connection) as queries:
            assert contexts_refresh(customer_ids=ids) == len(ids)
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]


def test_the_refresh_task_replaces_the_cached_context(settings):
    (customer_id,) = make_customers(1, "t")
    service = get_context_service()
    before = service.enrich_context(customer_id)
    assert refresh_contexts.delay([customer_id]).get() == 1  # eager in tests
    cached, _generation = service.cache.get_l2(customer_id)
    assert cached is not None and cached.enriched_at > before.enriched_at
