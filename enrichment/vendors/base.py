"""What the vendor clients return: typed, frozen, vendor-neutral results.

Clients implement one of the interfaces below; a new vendor is one more class.
Results are stored (as JSON through :mod:`enrichment.context.codec`) in
:class:`~enrichment.vendors.models.ExternalRecord.payload`, so the request path reads
normalised data and never a vendor's raw body.

"No data" is a normal answer (``None``), not an error; everything that is not
an answer raises a :class:`~enrichment.vendors.http.VendorError`.
"""

from __future__ import annotations

import abc
import datetime as dt
from dataclasses import dataclass
from typing import Any, ClassVar

from enrichment.context.codec import from_jsonable, to_jsonable
from enrichment.context.sections import NewsItem


@dataclass(frozen=True, slots=True)
class CompanyData:
    name: str = ""
    legal_name: str = ""
    domain: str = ""
    description: str = ""
    sector: str = ""
    industry: str = ""
    tags: tuple[str, ...] = ()
    employees: int | None = None
    employees_range: str = ""
    founded_year: int | None = None
    location: str = ""
    country_code: str = ""
    company_type: str = ""
    ticker: str = ""
    raised_usd: int | None = None
    estimated_annual_revenue: str = ""
    linkedin_handle: str = ""
    twitter_handle: str = ""
    crunchbase_handle: str = ""
    logo: str = ""
    tech: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FundingData:
    permalink: str = ""
    name: str = ""
    funding_total_usd: int | None = None
    last_funding_type: str = ""
    last_funding_at: dt.date | None = None
    num_funding_rounds: int | None = None
    investors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NewsData:
    total_results: int = 0
    articles: tuple[NewsItem, ...] = ()


RESULT_TYPES: dict[str, type] = {"company": CompanyData, "funding": FundingData, "news": NewsData}


def result_to_payload(result: Any) -> dict[str, Any]:
    return to_jsonable(result)


def payload_to_result(kind: str, payload: dict[str, Any]) -> Any:
    return from_jsonable(RESULT_TYPES[kind], payload)


class VendorClient(abc.ABC):
    """A vendor's HTTP client. ``vendor`` is its ExternalRecord.vendor value and
    ``kind`` the result it yields (company, funding or news)."""

    vendor: ClassVar[str]
    kind: ClassVar[str]

    def __init__(self, *, api_key: str, base_url: str):
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")

    def __repr__(self) -> str:  # never the key
        return f"<{type(self).__name__} {self.base_url}>"


class CompanyDataClient(VendorClient):
    """Company profile by web domain (Clearbit, People Data Labs ...)."""

    kind = "company"

    @abc.abstractmethod
    def find_company(self, domain: str) -> CompanyData | None:
        """The company at ``domain``, or ``None`` when the vendor has no record."""


class FundingClient(VendorClient):
    """Funding by the vendor's organisation id or permalink (Crunchbase)."""

    kind = "funding"

    @abc.abstractmethod
    def find_funding(self, permalink: str) -> FundingData | None:
        """The organisation's funding, or ``None`` when the vendor has no record."""


class NewsClient(VendorClient):
    """Recent news about a company (NewsAPI)."""

    kind = "news"

    @abc.abstractmethod
    def recent_news(self, company_name: str, *, domain: str = "", since: dt.date | None = None) -> NewsData | None:
        """Recent articles (newest first), or ``None`` when the query cannot be made."""


def clean_str(value: Any, limit: int = 500) -> str:
    """A vendor string as plain text: anything that is not a string is empty."""
    if not isinstance(value, str):
        return ""
    return value.strip()[:limit]


def clean_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def clean_date(value: Any) -> dt.date | None:
    if isinstance(value, dict):
        value = value.get("value")
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def clean_datetime(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def dig(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data
