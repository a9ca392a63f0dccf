"""Clearbit Company API: ``GET /v2/companies/find?domain=...``.

Auth is HTTP Basic with the key as user name and an empty password. Answers:
200 the company; 202 queued (ask again later); 404 ``unknown_record`` (no such
company: a normal "no data"); 422 invalid domain (no data); 401 invalid key and
402 over quota (not retried); 429 rate limit ("Rate limit will be reset in 50
seconds"); 5xx server error. Error bodies are ``{"error": {"type", "message"}}``.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from enrichment.vendors.base import CompanyData, CompanyDataClient, clean_int, clean_str, dig
from enrichment.vendors.http import (
    VendorBadResponse,
    VendorQueued,
    VendorRateLimited,
    json_body,
    raise_for_common,
    retry_after_seconds,
    send,
)

_RESET_IN = re.compile(r"reset in (\d+(?:\.\d+)?) seconds?", re.IGNORECASE)


class ClearbitClient(CompanyDataClient):
    vendor = "clearbit"

    def find_company(self, domain: str) -> CompanyData | None:
        response = send(
            self.vendor,
            "GET",
            f"{self.base_url}/v2/companies/find",
            params={"domain": domain},
            auth=(self.api_key, ""),
        )
        status = response.status_code
        if status == 200:
            body = json_body(self.vendor, response)
            if not isinstance(body, dict):
                raise VendorBadResponse(self.vendor, "HTTP 200 body is not an object", status=status)
            return parse_company(body)
        error_type, message = _error(response)
        if status == 202:
            raise VendorQueued(self.vendor, "lookup queued", retry_after=retry_after_seconds(response))
        if status == 404:
            if error_type == "unknown_route":  # a wrong CLEARBIT_BASE_URL, not an unknown company
                raise VendorBadResponse(self.vendor, "HTTP 404 unknown_route", status=status)
            return None
        if status == 422:
            return None
        if status == 429:
            raise VendorRateLimited(self.vendor, f"HTTP 429: {message or 'rate limited'}", retry_after=_rate_limit_wait(response, message))
        raise_for_common(self.vendor, response, error_type or message)
        raise VendorBadResponse(self.vendor, f"unexpected HTTP {status}", status=status)


def _error(response: httpx.Response) -> tuple[str, str]:
    """(type, message) of a Clearbit error body; empty when there is none."""
    try:
        body = response.json()
    except ValueError:
        return "", ""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", ""
    return clean_str(error.get("type"), 50), clean_str(error.get("message"), 300)


def _rate_limit_wait(response: httpx.Response, message: str) -> float | None:
    wait = retry_after_seconds(response)
    if wait is not None:
        return wait
    match = _RESET_IN.search(message)
    return float(match.group(1)) if match else None


def parse_company(body: dict[str, Any]) -> CompanyData:
    metrics = body.get("metrics") if isinstance(body.get("metrics"), dict) else {}
    geo = body.get("geo") if isinstance(body.get("geo"), dict) else {}
    location = clean_str(body.get("location"), 200)
    if not location:
        location = ", ".join(
            part for part in (clean_str(geo.get("city")), clean_str(geo.get("state")), clean_str(geo.get("country"))) if part
        )
    tags = body.get("tags") if isinstance(body.get("tags"), list) else []
    tech = body.get("tech") if isinstance(body.get("tech"), list) else []
    return CompanyData(
        name=clean_str(body.get("name"), 200),
        legal_name=clean_str(body.get("legalName"), 200),
        domain=clean_str(body.get("domain"), 253).lower(),
        description=clean_str(body.get("description"), 1000),
        sector=clean_str(dig(body, "category", "sector"), 100),
        industry=clean_str(dig(body, "category", "industry"), 100),
        tags=tuple(clean_str(tag, 60) for tag in tags[:20] if clean_str(tag)),
        employees=clean_int(metrics.get("employees")),
        employees_range=clean_str(metrics.get("employeesRange"), 20),
        founded_year=clean_int(body.get("foundedYear")),
        location=location,
        country_code=clean_str(geo.get("countryCode"), 2),
        company_type=clean_str(body.get("type"), 30),
        ticker=clean_str(body.get("ticker"), 10),
        raised_usd=clean_int(metrics.get("raised")),
        estimated_annual_revenue=clean_str(metrics.get("estimatedAnnualRevenue"), 30),
        linkedin_handle=clean_str(dig(body, "linkedin", "handle"), 200),
        twitter_handle=clean_str(dig(body, "twitter", "handle"), 100),
        crunchbase_handle=clean_str(dig(body, "crunchbase", "handle"), 200),
        logo=clean_str(body.get("logo"), 500),
        tech=tuple(clean_str(item, 60) for item in tech[:30] if clean_str(item)),
    )
