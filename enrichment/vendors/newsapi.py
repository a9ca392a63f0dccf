"""NewsAPI: ``GET /v2/everything?q=...&from=...&sortBy=publishedAt&pageSize=N&language=en``
with header ``X-Api-Key``.

200 ``{"status": "ok", "totalResults": N, "articles": [...]}``; errors are
``{"status": "error", "code": ..., "message": ...}`` with HTTP 400 (e.g.
parameterInvalid: no data for this query), 401 (apiKey*), 426
(maximumResultsReached), 429 (rateLimited) or 500.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
from django.conf import settings

from enrichment.context.sections import NewsItem
from enrichment.vendors.base import NewsClient, NewsData, clean_datetime, clean_int, clean_str, dig
from enrichment.vendors.http import VendorBadResponse, json_body, raise_for_common, send

MAX_QUERY = 500


class NewsApiClient(NewsClient):
    vendor = "newsapi"

    def recent_news(self, company_name: str, *, domain: str = "", since: dt.date | None = None) -> NewsData | None:
        query = _query(company_name, domain)
        if not query:
            return None
        params: dict[str, Any] = {
            "q": query,
            "sortBy": "publishedAt",
            "pageSize": max(1, min(100, settings.NEWSAPI_PAGE_SIZE)),
            "page": 1,
            "language": "en",
        }
        if since is not None:
            params["from"] = since.isoformat()
        response = send(self.vendor, "GET", f"{self.base_url}/v2/everything", params=params, headers={"X-Api-Key": self.api_key})
        status = response.status_code
        if status == 200:
            body = json_body(self.vendor, response)
            if not isinstance(body, dict) or body.get("status") != "ok" or not isinstance(body.get("articles"), list):
                raise VendorBadResponse(self.vendor, "HTTP 200 body is not a NewsAPI result", status=status)
            return parse_news(body)
        code, message = _error(response)
        if status in (400, 426) and code in ("parameterInvalid", "parametersMissing", "maximumResultsReached"):
            return None
        raise_for_common(self.vendor, response, code)
        raise VendorBadResponse(self.vendor, f"HTTP {status}" + (f": {code} {message}".rstrip() if code else ""), status=status)


def _query(company_name: str, domain: str) -> str:
    name = " ".join(company_name.replace('"', " ").split())
    if not name:
        return ""
    query = f'"{name}"'
    if domain and len(query) + len(domain) + 4 <= MAX_QUERY:
        query = f"{query} OR {domain}"
    return query[:MAX_QUERY]


def _error(response: httpx.Response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    return clean_str(body.get("code"), 50), clean_str(body.get("message"), 300)


def parse_news(body: dict[str, Any]) -> NewsData:
    items = []
    for article in body["articles"]:
        if not isinstance(article, dict):
            continue
        title, url = clean_str(article.get("title"), 300), clean_str(article.get("url"), 1000)
        if not title or not url or title == "[Removed]":
            continue
        items.append(
            NewsItem(
                title=title,
                url=url,
                source=clean_str(dig(article, "source", "name"), 100),
                published_at=clean_datetime(article.get("publishedAt")),
            )
        )
    items.sort(key=lambda item: item.published_at or dt.datetime.min.replace(tzinfo=dt.UTC), reverse=True)
    return NewsData(total_results=clean_int(body.get("totalResults")) or 0, articles=tuple(items))
