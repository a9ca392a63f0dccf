"""The request path reads what the tasks stored: CompanyEnrichmentProvider,
selective lookups, the fan-out over vendors, and context invalidation."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from enrichment.context.sections import CompanyEnrichment
from enrichment.engine.service import ContextEnrichmentService, get_context_service
from enrichment.vendors.models import ExternalRecord
from enrichment.vendors.selectors import eligible_customers
from enrichment.vendors.tasks import fetch_external_enrichment
from tests.customers.factories import CustomerFactory
from tests.enrichment.external_fixtures import KEYS, make_customer

pytestmark = pytest.mark.django_db


def store(customer, vendor, payload, *, status="ok", age=dt.timedelta(0)):
    now = timezone.now() - age
    return ExternalRecord.objects.create(customer=customer, vendor=vendor, status=status, payload=payload, fetched_at=now, checked_at=now)


def with_keys(settings, **only):
    for name, value in KEYS.items():
        setattr(settings, name, only.get(name, value))


def test_no_vendor_configured_omits_the_section(settings):
    customer = make_customer(external_id="ext_none")
    ctx = ContextEnrichmentService(enable_caching=False, enable_external_apis=True).enrich_context("ext_none")
    assert ctx.company_enrichment is None and "company_enrichment" not in ctx.sources
    assert ExternalRecord.objects.filter(customer=customer).count() == 0


def test_configured_but_nothing_stored_gives_an_empty_section_and_says_what_is_off(settings):
    with_keys(settings, NEWSAPI_KEY=None)
    make_customer(external_id="ext_empty")
    ctx = ContextEnrichmentService(enable_caching=False, enable_external_apis=True).enrich_context("ext_empty")
    assert ctx.company_enrichment == CompanyEnrichment()
    assert ctx.sources["company_enrichment"].source == "external: clearbit, crunchbase; newsapi: not configured"
    assert "Company Profile" not in ctx.to_prompt_context()


def test_stored_records_are_merged_into_the_section_with_one_query(settings):
    with_keys(settings)
    customer = make_customer(external_id="ext_full")
    store(
        customer,
        "clearbit",
        {
            "name": "Acme Corp",
            "domain": "acme.com",
            "description": "Makes things.",
            "industry": "Software",
            "employees": 250,
            "employees_range": "251-1K",
            "founded_year": 2015,
            "location": "SF",
            "raised_usd": 1,
        },
    )
    store(customer, "crunchbase", {"funding_total_usd": 42_000_000, "last_funding_type": "series_b", "last_funding_at": "2024-03-12"})
    articles = [
        {"title": f"News {i}", "url": f"https://n/{i}", "source": "Wire", "published_at": f"2026-01-{10 - i:02d}T00:00:00+00:00"}
        for i in range(7)
    ]
    store(customer, "newsapi", {"total_results": 7, "articles": articles})
    store(customer, "peopledatalabs", {"name": "Ignored: Clearbit wins"})

    with_external = ContextEnrichmentService(enable_caching=False, enable_external_apis=True)
    without = ContextEnrichmentService(enable_caching=False, enable_external_apis=False)
    with CaptureQueriesContext(connection) as base:
        without.enrich_context("ext_full")
    with CaptureQueriesContext(connection) as queries:
        ctx = with_external.enrich_context("ext_full")
    assert len(queries.captured_queries) == len(base.captured_queries) + 1

    ce = ctx.company_enrichment
    assert (ce.name, ce.domain, ce.industry, ce.employees, ce.employees_range, ce.founded_year) == (
        "Acme Corp",
        "acme.com",
        "Software",
        250,
        "251-1K",
        2015,
    )
    assert (ce.funding_total_usd, ce.last_funding_type, ce.last_funding_at) == (42_000_000, "series_b", dt.date(2024, 3, 12))
    assert [n.title for n in ce.news] == ["News 0", "News 1", "News 2", "News 3", "News 4"]
    assert ctx.sources["company_enrichment"].source == "external: clearbit, crunchbase, newsapi"
    prompt = ctx.to_prompt_context()
    assert "- Funding: $42,000,000 (Series B)" in prompt and "- News: News 0 (Wire)" in prompt
    assert ctx.to_dict()["company_enrichment"]["news"][0]["title"] == "News 0"


def test_no_data_and_error_records_add_nothing_and_old_data_survives_an_error(settings):
    with_keys(settings)
    customer = make_customer(external_id="ext_partial")
    store(customer, "clearbit", {}, status="no_data")
    store(customer, "crunchbase", {"funding_total_usd": 5}, status="error")  # an earlier success, then a failure
    ExternalRecord.objects.create(customer=customer, vendor="newsapi", status="error", error="boom", checked_at=timezone.now())
    ctx = ContextEnrichmentService(enable_caching=False, enable_external_apis=True).enrich_context("ext_partial")
    assert dataclasses.replace(ctx.company_enrichment, data_fetched_at=None) == CompanyEnrichment(funding_total_usd=5)


def test_the_batch_path_reads_many_customers_in_one_query(settings):
    with_keys(settings)
    customers = [make_customer(domain=f"b{i}.com", name=f"B{i}") for i in range(3)]
    store(customers[0], "clearbit", {"name": "B0 Inc"})
    from enrichment.providers.base import ProviderRequest
    from enrichment.providers.external import CompanyEnrichmentProvider

    provider = CompanyEnrichmentProvider()
    refs = [type("Ref", (), {"pk": c.pk})() for c in customers]
    with CaptureQueriesContext(connection) as queries:
        values = provider.fetch_many([ProviderRequest(customer=r, now=timezone.now()) for r in refs], sections={})
    assert len(queries.captured_queries) == 1
    assert values[customers[0].pk].name == "B0 Inc" and values[customers[1].pk] == CompanyEnrichment()


def test_data_older_than_its_ttl_is_served_and_marked_stale(settings):
    with_keys(settings)
    settings.EXTERNAL_DATA_TTL_HOURS = 24
    fresh, old = make_customer(external_id="ext_fresh"), make_customer(external_id="ext_old", domain="old.com", name="Old")
    store(fresh, "clearbit", {"name": "Fresh Inc"})
    store(old, "clearbit", {"name": "Old Inc"}, age=dt.timedelta(hours=30))
    service = ContextEnrichmentService(enable_caching=False, enable_external_apis=True)
    for customer_id, name, stale in (("ext_fresh", "Fresh Inc", False), ("ext_old", "Old Inc", True)):
        for ctx in (service.enrich_context(customer_id), service.enrich_many([customer_id])[customer_id]):
            assert ctx.company_enrichment.name == name
            assert ctx.sources["company_enrichment"].stale is stale
            assert ctx.company_enrichment.data_fetched_at is not None


# -- selective lookups and the fan-out -------------------------------------------------------------
def test_only_customers_above_the_mrr_floor_or_on_listed_plans_are_eligible(settings):
    settings.EXTERNAL_ENRICHMENT_MIN_MRR = 100
    settings.EXTERNAL_ENRICHMENT_PLANS = ["enterprise"]
    big = make_customer(domain="big.com", mrr="100.00", plan="starter")
    make_customer(domain="small.com", mrr="99.99", plan="starter")
    listed = make_customer(domain="listed.com", mrr="0.00", plan="enterprise")
    CustomerFactory()  # no subscription at all
    assert set(eligible_customers().values_list("pk", flat=True)) == {big.pk, listed.pk}


def test_a_small_customer_gets_no_lookups(vendors_on):
    small = make_customer(mrr="20.00", plan="starter")
    assert fetch_external_enrichment.delay(small.pk).get() == {"started": [], "skipped": "not eligible"}
    assert vendors_on.calls == [] and not ExternalRecord.objects.exists()


def test_the_fan_out_stores_every_vendor_and_invalidates_the_context(vendors_on, django_capture_on_commit_callbacks):
    customer = make_customer(external_id="customer_ext", domain="acme.com", name="Acme Corp")
    service = get_context_service()
    assert service.enrich_context("customer_ext").company_enrichment == CompanyEnrichment()
    with django_capture_on_commit_callbacks(execute=True):
        result = fetch_external_enrichment.delay("customer_ext").get()
    assert result == {"started": ["clearbit", "crunchbase", "newsapi"]}
    records = {r.vendor: r.status for r in ExternalRecord.objects.filter(customer=customer)}
    assert records == {"clearbit": "ok", "crunchbase": "ok", "newsapi": "ok"}
    assert vendors_on.calls_to("crunchbase")[0].path.endswith("/organizations/acme")  # Clearbit's handle
    ctx = service.enrich_context("customer_ext")  # the cached empty section was invalidated
    assert ctx.company_enrichment.name == "Acme Corp"
    assert ctx.company_enrichment.funding_total_usd == 42_000_000
    assert ctx.company_enrichment.news[0].title.startswith("Acme Corp raises")

    # Running it again stores nothing twice and asks nobody (the data is fresh).
    calls = len(vendors_on.calls)
    fetch_external_enrichment.delay(customer.pk).get()
    assert ExternalRecord.objects.filter(customer=customer).count() == 3
    assert len(vendors_on.calls) == calls
