"""The company enrichment section: what the vendors said, as stored by Celery.

No request ever calls a vendor: :mod:`enrichment.vendors.tasks` fetches
Clearbit (or People Data Labs), Crunchbase and NewsAPI in the background and
stores normalised results in :class:`~enrichment.vendors.models.ExternalRecord`. This
provider reads a customer's records with one query and merges them:

- company profile from the company-data vendor (Clearbit, else People Data Labs),
- funding from Crunchbase (Clearbit's ``metrics.raised`` when Crunchbase has none),
- the newest ``MAX_NEWS`` articles from NewsAPI.

It is enabled only when at least one vendor has a key; with none the section is
omitted (``company_enrichment`` is null and absent from ``sources``). Otherwise
its ``source`` names the vendors in use and those not configured, e.g.
``"external: clearbit, crunchbase; newsapi: not configured"``. A customer with
nothing stored yet gets an empty :class:`CompanyEnrichment`. Records are served
even when older than ``EXTERNAL_DATA_TTL_HOURS`` (old facts beat none), with
``sources["company_enrichment"].stale`` true and ``data_fetched_at`` saying how
old; the ``refresh-stale-external-data`` beat job refetches them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings

from enrichment.context.sections import CompanyEnrichment
from enrichment.providers.base import ContextProvider, ProviderRequest
from enrichment.vendors.base import CompanyData, FundingData, NewsData, payload_to_result
from enrichment.vendors.registry import VENDORS, active_vendors, sources_text
from enrichment.vendors.selectors import external_records_answered

MAX_NEWS = 5
_COMPANY_ORDER = ("clearbit", "peopledatalabs")


class CompanyEnrichmentProvider(ContextProvider):
    key = "company_enrichment"
    section = CompanyEnrichment
    timeout = 0.5
    ttl = 3600  # new data invalidates the context, so this only bounds drift
    concurrent = False  # one indexed query: inline like the database providers

    @property
    def source(self) -> str:  # type: ignore[override]
        return sources_text()

    def is_enabled(self) -> bool:
        return bool(active_vendors())

    def fetch(self, request: ProviderRequest, *, sections: Mapping[str, Any]) -> CompanyEnrichment:
        return self.fetch_many([request], sections={request.customer.pk: sections})[request.customer.pk]

    def fetch_many(self, requests: Sequence[ProviderRequest], *, sections: Mapping[int, Mapping[str, Any]]) -> dict[int, CompanyEnrichment]:
        pks = [r.customer.pk for r in requests]
        rows = external_records_answered(customer_pks=pks)
        stored: dict[int, dict[str, dict]] = {pk: {} for pk in pks}
        oldest: dict[int, dt.datetime] = {}
        for customer_pk, vendor, payload, fetched_at in rows:
            if payload and vendor in VENDORS:
                stored[customer_pk][vendor] = payload
                if customer_pk not in oldest or fetched_at < oldest[customer_pk]:
                    oldest[customer_pk] = fetched_at
        return {pk: dataclasses.replace(merge(stored[pk]), data_fetched_at=oldest.get(pk)) for pk in pks}

    def is_stale(self, value: Any, now: dt.datetime) -> bool:
        fetched_at = getattr(value, "data_fetched_at", None)
        return fetched_at is not None and now - fetched_at > dt.timedelta(hours=settings.EXTERNAL_DATA_TTL_HOURS)


def merge(payloads: Mapping[str, dict]) -> CompanyEnrichment:
    """One CompanyEnrichment from the vendors' stored payloads."""
    company = CompanyData()
    for vendor in _COMPANY_ORDER:
        if vendor in payloads:
            company = payload_to_result("company", payloads[vendor])
            break
    funding: FundingData = payload_to_result("funding", payloads["crunchbase"]) if "crunchbase" in payloads else FundingData()
    news: NewsData = payload_to_result("news", payloads["newsapi"]) if "newsapi" in payloads else NewsData()
    return CompanyEnrichment(
        name=company.name or funding.name,
        domain=company.domain,
        description=company.description,
        industry=company.industry or company.sector,
        employees=company.employees,
        employees_range=company.employees_range,
        founded_year=company.founded_year,
        location=company.location,
        funding_total_usd=funding.funding_total_usd if funding.funding_total_usd is not None else company.raised_usd,
        last_funding_type=funding.last_funding_type,
        last_funding_at=funding.last_funding_at,
        news=news.articles[:MAX_NEWS],
    )
