"""Crunchbase API v4: ``GET /api/v4/entities/organizations/{permalink}?field_ids=...``
with header ``X-cb-user-key``.

200 ``{"properties": {...}}`` with fields that have no data omitted; money is
``{value, currency, value_usd}``. Errors are a JSON array such as
``[{"status": 401, "code": "LA401", "message": "Unauthorized user_key"}]``.
404 (unknown organisation) is "no data"; 429 has no Retry-After, so the task's
exponential backoff applies.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from enrichment.vendors.base import FundingClient, FundingData, clean_date, clean_int, clean_str
from enrichment.vendors.http import VendorBadResponse, json_body, raise_for_common, send

FIELD_IDS = (
    "identifier",
    "short_description",
    "funding_total",
    "last_funding_type",
    "last_funding_at",
    "num_funding_rounds",
    "investor_identifiers",
)


class CrunchbaseClient(FundingClient):
    vendor = "crunchbase"

    def find_funding(self, permalink: str) -> FundingData | None:
        permalink = permalink.strip().removeprefix("organization/")
        if not permalink:
            return None
        response = send(
            self.vendor,
            "GET",
            f"{self.base_url}/api/v4/entities/organizations/{quote(permalink, safe='')}",
            params={"field_ids": ",".join(FIELD_IDS)},
            headers={"X-cb-user-key": self.api_key},
        )
        status = response.status_code
        if status == 200:
            body = json_body(self.vendor, response)
            properties = body.get("properties") if isinstance(body, dict) else None
            if not isinstance(properties, dict):
                raise VendorBadResponse(self.vendor, "HTTP 200 body has no properties object", status=status)
            return parse_funding(properties, permalink)
        message = _error_message(response)
        if status == 404:
            return None
        raise_for_common(self.vendor, response, message)
        raise VendorBadResponse(self.vendor, f"HTTP {status}" + (f": {message}" if message else ""), status=status)


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, list) and body and isinstance(body[0], dict):
        first = body[0]
        return " ".join(part for part in (clean_str(first.get("code"), 30), clean_str(first.get("message"), 300)) if part)
    return ""


def _usd(money: Any) -> int | None:
    if not isinstance(money, dict):
        return None
    value = money.get("value_usd")
    if isinstance(value, float):
        value = round(value)
    return clean_int(value)


def parse_funding(properties: dict[str, Any], permalink: str) -> FundingData:
    identifier = properties.get("identifier") if isinstance(properties.get("identifier"), dict) else {}
    investors = properties.get("investor_identifiers") if isinstance(properties.get("investor_identifiers"), list) else []
    return FundingData(
        permalink=clean_str(identifier.get("permalink"), 200) or permalink,
        name=clean_str(identifier.get("value"), 200),
        funding_total_usd=_usd(properties.get("funding_total")),
        last_funding_type=clean_str(properties.get("last_funding_type"), 40),
        last_funding_at=clean_date(properties.get("last_funding_at")),
        num_funding_rounds=clean_int(properties.get("num_funding_rounds")),
        investors=tuple(
            clean_str(inv.get("value"), 200) for inv in investors[:20] if isinstance(inv, dict) and clean_str(inv.get("value"))
        ),
    )
