"""Which vendors exist, which are configured, and how to build their clients.

A vendor with no API key is off: no task calls it and the context's
``company_enrichment`` source says ``<vendor>: not configured``. People Data
Labs is the company-data fallback: it is used only when Clearbit has no key.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

from enrichment.vendors.base import VendorClient


@dataclass(frozen=True, slots=True)
class VendorSpec:
    vendor: str
    kind: str  # company | funding | news
    client: str  # dotted path of the VendorClient
    key_setting: str
    base_url_setting: str


VENDORS: dict[str, VendorSpec] = {
    spec.vendor: spec
    for spec in (
        VendorSpec("clearbit", "company", "enrichment.vendors.clearbit.ClearbitClient", "CLEARBIT_API_KEY", "CLEARBIT_BASE_URL"),
        VendorSpec(
            "peopledatalabs",
            "company",
            "enrichment.vendors.peopledatalabs.PeopleDataLabsClient",
            "PEOPLEDATALABS_API_KEY",
            "PEOPLEDATALABS_BASE_URL",
        ),
        VendorSpec(
            "crunchbase", "funding", "enrichment.vendors.crunchbase.CrunchbaseClient", "CRUNCHBASE_API_KEY", "CRUNCHBASE_BASE_URL"
        ),
        VendorSpec("newsapi", "news", "enrichment.vendors.newsapi.NewsApiClient", "NEWSAPI_KEY", "NEWSAPI_BASE_URL"),
    )
}


def has_key(vendor: str) -> bool:
    return bool(getattr(settings, VENDORS[vendor].key_setting, None))


def active_vendors() -> list[str]:
    """The vendors the tasks call, in call order (company data first: its
    Crunchbase handle helps the funding lookup)."""
    active = []
    if has_key("clearbit"):
        active.append("clearbit")
    elif has_key("peopledatalabs"):
        active.append("peopledatalabs")
    active.extend(vendor for vendor in ("crunchbase", "newsapi") if has_key(vendor))
    return active


def make_client(vendor: str) -> VendorClient | None:
    """The vendor's client built from settings, or ``None`` when it has no key."""
    spec = VENDORS[vendor]
    key = getattr(settings, spec.key_setting, None)
    if not key:
        return None
    return import_string(spec.client)(api_key=key, base_url=getattr(settings, spec.base_url_setting))


def sources_text() -> str:
    """How the company_enrichment section's ``source`` reads, e.g.
    ``"external: clearbit, crunchbase; newsapi: not configured"``."""
    active = active_vendors()
    off = [v for v in ("clearbit", "crunchbase", "newsapi") if v not in active and not (v == "clearbit" and "peopledatalabs" in active)]
    text = "external: " + (", ".join(active) if active else "none")
    if off:
        text += "; " + ", ".join(off) + ": not configured"
    return text
