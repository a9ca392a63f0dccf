"""A cold context sends its providers' statements in one round trip
(psycopg's pipeline mode, :func:`config.db.prefetched`) and gets exactly the
context the one-statement-at-a-time path gives: byte for byte, for the whole
demo set and for random customers of a benchmark-shaped data set."""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import Sequence
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.utils import timezone
from psycopg import pq

from bench.datagen import Scale, ensure_data
from config.db import CompiledQuery, PlannedQuery
from customers.models import Customer
from customers.selectors import CustomerRef, customer_refs_get
from enrichment.context.exceptions import CustomerNotFound
from enrichment.context.sections import CustomerIntelligence
from enrichment.engine.runner import ProviderRunner
from enrichment.engine.service import ContextEnrichmentService
from enrichment.providers.base import INTERNAL_SOURCES, BatchProvider, ProviderRequest
from enrichment.providers.registry import load_providers
from enrichment.realtime.product_status import product_status_publish
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 14, 37, 12, 345678, tzinfo=dt.UTC)


def runners(providers: Sequence[Any] | None = None) -> tuple[ProviderRunner, ProviderRunner]:
    providers = list(providers) if providers is not None else [p for p in load_providers() if p.source in INTERNAL_SOURCES]
    return ProviderRunner(providers, deadline=30.0, pipeline=True), ProviderRunner(providers, deadline=30.0, pipeline=False)


def context_bytes(runner: ProviderRunner, ref: CustomerRef, now: dt.datetime = NOW) -> str:
    """The context's JSON with the timings (which differ from run to run) taken out."""
    (context,), _timings = runner.run([ref], started=time.perf_counter(), now=now)
    assert context.degraded == ()  # a real context, not one of defaults
    data = context.to_dict()
    data.pop("enrichment_latency_ms")
    for source in data["sources"].values():
        source.pop("latency_ms")
    return json.dumps(data, sort_keys=True, default=str)


def refs_for(external_ids: Sequence[str]) -> list[CustomerRef]:
    found = customer_refs_get(external_ids=list(external_ids))
    return [found[cid] for cid in external_ids]


def statements_in_pipeline(runner: ProviderRunner, ref: CustomerRef) -> list[bool]:
    """For each statement a run executes, whether it went out in pipeline mode
    (leaving out the savepoint that guards the pipeline inside the test's transaction)."""
    seen: list[bool] = []

    def record(execute, sql, params, many, context):
        if not sql.startswith(("SAVEPOINT", "RELEASE SAVEPOINT")):
            seen.append(connection.connection.pgconn.pipeline_status != pq.PipelineStatus.OFF)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        runner.run([ref], started=time.perf_counter(), now=NOW)
    return seen


def test_the_demo_set_gets_byte_identical_contexts_either_way():
    call_command("seed_demo", stdout=StringIO())
    product_status_publish()
    pipelined, one_by_one = runners()
    refs = refs_for(list(Customer.objects.order_by("pk").values_list("external_id", flat=True)))
    assert len(refs) > 200
    differing = [ref.external_id for ref in refs if context_bytes(pipelined, ref) != context_bytes(one_by_one, ref)]
    assert differing == []
    # ... and the same at another moment, a day's first minutes (the windows' other compiled statement).
    early = NOW.replace(hour=0, minute=3)
    assert [r.external_id for r in refs[:40] if context_bytes(pipelined, r, early) != context_bytes(one_by_one, r, early)] == []


def test_random_customers_of_a_benchmark_shaped_set_get_byte_identical_contexts():
    with connection.cursor() as cursor:  # the generator numbers customers from 1 (rolled back with the test)
        cursor.execute("TRUNCATE customers_customer, billing_plan RESTART IDENTITY CASCADE")
    ensure_data(Scale("test", customers=400, events=40_000, heavy_events=10_000, tickets=2_000), log=lambda _m: None)
    product_status_publish()
    pipelined, one_by_one = runners()
    ids = list(Customer.objects.values_list("external_id", flat=True))
    sample = [*random.Random(18).sample(ids, 60), "bench_heavy", "bench_light"]
    refs = refs_for(sample)
    assert [ref.external_id for ref in refs if context_bytes(pipelined, ref) != context_bytes(one_by_one, ref)] == []


def test_every_provider_statement_goes_out_in_the_one_pipeline(acme):
    pipelined, one_by_one = runners()
    (ref,) = refs_for(["customer_123"])
    in_pipeline = statements_in_pipeline(pipelined, ref)
    sequential = statements_in_pipeline(one_by_one, ref)
    assert in_pipeline and all(in_pipeline)
    assert not any(sequential)
    assert len(in_pipeline) == len(sequential) >= 5  # the same statements, in one round trip


class _FailingStatementProvider(BatchProvider):
    """A provider whose statement fails on the server (division by zero)."""

    key = "customer_intelligence"  # any key: only its degradation is looked at
    section = CustomerIntelligence
    query = CompiledQuery(lambda pk: Customer.objects.filter(pk=pk).annotate(boom=F("pk") / 0).values_list("boom"), pk=-900_000_077)

    def planned_queries(self, request: ProviderRequest) -> list[PlannedQuery]:
        return [PlannedQuery(self.query, {"pk": request.customer.pk})]

    def fetch_many(self, requests, *, sections):
        return {r.customer.pk: self.query.rows(pk=r.customer.pk) for r in requests}


@pytest.mark.django_db(transaction=True)  # autocommit, as when serving: a failed statement aborts no transaction
def test_a_statement_failing_in_the_pipeline_degrades_only_its_own_section(acme):
    providers = [p for p in load_providers() if p.source in INTERNAL_SOURCES and p.key != "customer_intelligence"]
    pipelined, _one_by_one = runners([_FailingStatementProvider(), *providers])
    (ref,) = refs_for(["customer_123"])
    (context,), _timings = pipelined.run([ref], started=time.perf_counter(), now=timezone.now())
    assert [d.section for d in context.degraded] == ["customer_intelligence"]
    assert context.degraded[0].reason.startswith("database error")
    assert context.support_history.total_conversations > 0
    assert context.subscription_details.plan


# -- the customer's own lookup rides in the same round trip once the process knows it ----------------


def service_statements(service: ContextEnrichmentService, customer_id: str) -> list[bool]:
    seen: list[bool] = []

    def record(execute, sql, params, many, context):
        if not sql.startswith(("SAVEPOINT", "RELEASE SAVEPOINT")):
            seen.append(connection.connection.pgconn.pipeline_status != pq.PipelineStatus.OFF)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        service.enrich_context(customer_id)
    return seen


def test_a_known_customer_costs_one_round_trip_a_new_one_two(acme):
    service = ContextEnrichmentService(enable_caching=False, record_health=False)
    first = service_statements(service, "customer_123")
    assert first[0] is False and all(first[1:])  # the lookup, then the pipeline
    again = service_statements(service, "customer_123")
    assert again and all(again)  # the lookup inside the pipeline
    assert len(again) == len(first)


def test_a_customer_renamed_by_another_writer_is_read_fresh_not_guessed(acme):
    service = ContextEnrichmentService(enable_caching=False, record_health=False)
    assert service.enrich_context("customer_123").customer_intelligence.company_name == "Acme Corp"
    with connection.cursor() as cursor:
        cursor.execute("UPDATE customers_customer SET company_name = 'Acme Renamed', region = 'eu' WHERE external_id = 'customer_123'")
    ctx = service.enrich_context("customer_123")
    assert (ctx.customer_intelligence.company_name, ctx.customer_intelligence.region) == ("Acme Renamed", "eu")
    assert ctx.degraded == ()
    assert service.known_refs.get("customer_123").company_name == "Acme Renamed"


def test_a_customer_deleted_or_recreated_since_it_was_guessed(acme):
    service = ContextEnrichmentService(enable_caching=False, record_health=False)
    old = service.enrich_context("customer_123")
    Customer.objects.filter(external_id="customer_123").delete()
    with pytest.raises(CustomerNotFound):
        service.enrich_context("customer_123")
    assert service.known_refs.get("customer_123") is None
    service.known_refs.remember([CustomerRef(acme.pk, "customer_123", "Acme Corp", "acme.com", "", "", "", acme.customer_since)])
    reborn = CustomerFactory(external_id="customer_123", company_name="Acme Again")
    ctx = service.enrich_context("customer_123")  # the guess (the old pk) is refused; the new customer is served
    assert ctx.customer_intelligence.company_name == "Acme Again"
    assert service.known_refs.get("customer_123").pk == reborn.pk != acme.pk
    assert ctx.support_history.total_conversations == 0 < old.support_history.total_conversations
