"""People Data Labs Company Enrichment: ``GET /v5/company/enrich?website=...``
with header ``X-Api-Key``. A second :class:`CompanyDataClient`, used when
Clearbit is not configured. 200 flat body (name, size "51-200",
employee_count, founded, industry, location{...}); 404 ``not_found`` is "no
data"; 401/402/403 auth; 429 rate limit; 5xx server error.
"""

from __future__ import annotations

from typing import Any

from enrichment.vendors.base import CompanyData, CompanyDataClient, clean_int, clean_str, dig
from enrichment.vendors.http import VendorBadResponse, json_body, raise_for_common, send


class PeopleDataLabsClient(CompanyDataClient):
    vendor = "peopledatalabs"

    def find_company(self, domain: str) -> CompanyData | None:
        response = send(
            self.vendor,
            "GET",
            f"{self.base_url}/v5/company/enrich",
            params={"website": domain},
            headers={"X-Api-Key": self.api_key},
        )
        status = response.status_code
        if status == 200:
            body = json_body(self.vendor, response)
            if not isinstance(body, dict):
                raise VendorBadResponse(self.vendor, "HTTP 200 body is not an object", status=status)
            return parse_company(body, domain)
        if status in (400, 404):
            return None
        raise_for_common(self.vendor, response)
        raise VendorBadResponse(self.vendor, f"unexpected HTTP {status}", status=status)


def parse_company(body: dict[str, Any], domain: str) -> CompanyData:
    location = body.get("location") if isinstance(body.get("location"), dict) else {}
    tags = body.get("tags") if isinstance(body.get("tags"), list) else []
    return CompanyData(
        name=clean_str(body.get("display_name") or body.get("name"), 200),
        domain=clean_str(body.get("website"), 253).lower().removeprefix("www.") or domain,
        description=clean_str(body.get("summary"), 1000),
        industry=clean_str(body.get("industry"), 100),
        tags=tuple(clean_str(tag, 60) for tag in tags[:20] if clean_str(tag)),
        employees=clean_int(body.get("employee_count")),
        employees_range=clean_str(body.get("size"), 20),
        founded_year=clean_int(body.get("founded")),
        location=clean_str(location.get("name"), 200),
        country_code=clean_str(dig(body, "location", "country_code"), 2).upper(),
        company_type=clean_str(body.get("type"), 30),
        ticker=clean_str(body.get("ticker"), 10),
        raised_usd=clean_int(body.get("total_funding_raised")),
        linkedin_handle=clean_str(body.get("linkedin_url"), 200),
        twitter_handle=clean_str(body.get("twitter_url"), 200),
    )
