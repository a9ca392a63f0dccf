"""A local stand-in for Clearbit, People Data Labs, Crunchbase and NewsAPI.

It answers with the vendors' real paths, status codes, headers and body shapes
(see ``shared/reference/external-apis.md``), so the clients talk to it exactly
as they would to the vendors. ``manage.py fake_vendors`` runs it for people
trying the project without keys; the tests run it on a free port and script it.

Default answers, for any domain: ``acme.com`` is Acme Corp (Series B, news);
other domains get a plausible company derived from the name. Special domains:
``unknown-*`` answers 404 (no such company), ``*.invalid`` 422, ``queued-*``
202 on the first lookup and 200 after.

Scripting (tests): ``server.script("clearbit", Reply(500), Reply(200))`` queues
answers for the next calls to that vendor; ``Reply(hang=30)`` holds the
connection (until ``server.release()``); every call is logged in ``server.calls``.
Any non-empty key is accepted; a missing key gets the vendor's 401.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

JSON = "application/json; charset=utf-8"


@dataclass
class Reply:
    """A scripted answer. ``body`` may be a JSON-able value, or ``bytes`` sent as is."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = JSON
    hang: float = 0.0  # seconds to hold the connection before answering (released early by server.release())


@dataclass(frozen=True)
class Call:
    vendor: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    at: float


def _title(label: str) -> str:
    return " ".join(part.capitalize() for part in label.replace("_", "-").split("-") if part) or "Example"


def company_for(domain: str) -> dict[str, Any]:
    """A Clearbit-shaped company for ``domain`` (nulls where Clearbit has none)."""
    domain = domain.lower().removeprefix("www.")
    label = domain.split(".")[0]
    if domain == "acme.com":
        name, employees, emp_range, raised, founded = "Acme Corp", 250, "251-1K", 42_000_000, 2015
        description = "Acme Corp makes project-management software for manufacturing teams."
        city, state, country, cc = "San Francisco", "California", "United States", "US"
    else:
        name, employees, emp_range, raised, founded = _title(label), 50 + len(label) * 10, "51-250", None, 2010 + len(label) % 10
        description = f"{_title(label)} is a company at {domain}."
        city, state, country, cc = "Berlin", None, "Germany", "DE"
    return {
        "id": f"fake-{label}",
        "name": name,
        "legalName": f"{name} Inc." if domain == "acme.com" else None,
        "domain": domain,
        "domainAliases": [],
        "site": {"phoneNumbers": [], "emailAddresses": []},
        "category": {
            "sector": "Information Technology",
            "industryGroup": "Software & Services",
            "industry": "Internet Software & Services",
            "subIndustry": "Internet Software & Services",
            "sicCode": "73",
            "naicsCode": "54",
        },
        "tags": ["Technology", "SAAS", "B2B"],
        "description": description,
        "foundedYear": founded,
        "location": ", ".join(p for p in (city, state, country) if p),
        "timeZone": "America/Los_Angeles" if cc == "US" else "Europe/Berlin",
        "utcOffset": -8 if cc == "US" else 1,
        "geo": {
            "streetNumber": None,
            "streetName": None,
            "subPremise": None,
            "city": city,
            "postalCode": None,
            "state": state,
            "stateCode": "CA" if state else None,
            "country": country,
            "countryCode": cc,
            "lat": None,
            "lng": None,
        },
        "logo": f"https://logo.clearbit.com/{domain}",
        "facebook": {"handle": None},
        "linkedin": {"handle": f"company/{label}"},
        "crunchbase": {"handle": f"organization/{label}"},
        "twitter": {
            "handle": label,
            "id": None,
            "bio": None,
            "followers": 1200,
            "following": 80,
            "location": None,
            "site": None,
            "avatar": None,
        },
        "emailProvider": False,
        "type": "private",
        "ticker": None,
        "identifiers": {"usEIN": None},
        "phone": None,
        "indexedAt": "2025-01-15T10:00:00.000Z",
        "metrics": {
            "alexaUsRank": None,
            "alexaGlobalRank": None,
            "employees": employees,
            "employeesRange": emp_range,
            "marketCap": None,
            "raised": raised,
            "annualRevenue": None,
            "estimatedAnnualRevenue": "$10M-$50M",
            "fiscalYearEnd": None,
        },
        "tech": ["google_apps", "slack", "stripe"],
        "techCategories": ["email_hosting_service", "payment"],
        "parent": {"domain": None},
        "ultimateParent": {"domain": None},
    }


def pdl_company_for(domain: str) -> dict[str, Any]:
    company = company_for(domain)
    return {
        "status": 200,
        "name": company["name"].lower(),
        "display_name": company["name"],
        "size": "201-500" if domain == "acme.com" else "51-200",
        "employee_count": company["metrics"]["employees"],
        "founded": company["foundedYear"],
        "industry": "computer software",
        "location": {"name": company["location"].lower(), "country": company["geo"]["country"].lower()},
        "website": domain,
        "summary": company["description"],
        "linkedin_url": f"linkedin.com/{company['linkedin']['handle']}",
        "tags": ["saas"],
        "total_funding_raised": company["metrics"]["raised"],
        "likelihood": 8,
    }


def organization_for(permalink: str) -> dict[str, Any]:
    """A Crunchbase v4 entity body; fields with no data are omitted."""
    properties: dict[str, Any] = {
        "identifier": {
            "uuid": f"00000000-0000-4000-8000-{abs(hash(permalink)) % 10**12:012d}",
            "value": "Acme Corp" if permalink == "acme" else _title(permalink),
            "image_id": None,
            "permalink": permalink,
            "entity_def_id": "organization",
        },
        "short_description": "Project-management software for manufacturing teams." if permalink == "acme" else f"{_title(permalink)}.",
    }
    if permalink == "acme":
        properties.update(
            {
                "funding_total": {"value": 42_000_000, "currency": "USD", "value_usd": 42_000_000},
                "last_funding_type": "series_b",
                "last_funding_at": "2024-03-12",
                "num_funding_rounds": 3,
                "investor_identifiers": [
                    {"uuid": "1", "value": "Sequoia Capital", "permalink": "sequoia-capital", "entity_def_id": "organization"},
                    {"uuid": "2", "value": "Y Combinator", "permalink": "y-combinator", "entity_def_id": "organization"},
                ],
                "num_employees_enum": "c_00251_00500",
            }
        )
    else:
        properties.update({"funding_total": {"value": 3_000_000, "currency": "USD", "value_usd": 3_000_000}, "last_funding_type": "seed"})
    return {"properties": properties}


def news_for(query: str, page_size: int) -> dict[str, Any]:
    name = query.split('"')[1] if query.count('"') >= 2 else query.split(" OR ")[0]
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    titles = (
        [
            "Acme Corp raises $20M Series B to expand in Europe",
            "Acme Corp names new VP of Engineering",
            "Acme Corp launches automations for shop-floor teams",
        ]
        if name == "Acme Corp"
        else [f"{name} announces a new product", f"{name} opens an office in Lisbon"]
    )
    articles = [
        {
            "source": {"id": None, "name": ["TechCrunch", "Business Wire", "The Verge"][i % 3]},
            "author": None,
            "title": title,
            "description": None,
            "url": f"https://news.example.com/{i}-{name.lower().replace(' ', '-')}",
            "urlToImage": None,
            "publishedAt": (now - dt.timedelta(days=2 + 5 * i)).isoformat().replace("+00:00", "Z"),
            "content": None,
        }
        for i, title in enumerate(titles[:page_size])
    ]
    return {"status": "ok", "totalResults": len(articles), "articles": articles}


class FakeVendorServer:
    """``with FakeVendorServer() as server: server.url`` — or start()/stop()."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self._scripts: dict[str, deque[Reply]] = {}
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._queued_seen: set[str] = set()
        self.calls: list[Call] = []
        handler = type("Handler", (_Handler,), {"stand_in": self})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeVendorServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> FakeVendorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scripting ----------------------------------------------------------------------
    def script(self, vendor: str, *replies: Reply) -> None:
        with self._lock:
            self._scripts.setdefault(vendor, deque()).extend(replies)

    def release(self) -> None:
        """End every hang now (and any later one at once)."""
        self._release.set()

    def calls_to(self, vendor: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.vendor == vendor]

    def wait_for_calls(self, vendor: str, n: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.calls_to(vendor)) >= n:
                return True
            time.sleep(0.02)
        return False

    def _next_scripted(self, vendor: str) -> Reply | None:
        with self._lock:
            queue = self._scripts.get(vendor)
            return queue.popleft() if queue else None

    def _log(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    # -- default answers ---------------------------------------------------------------
    def default_reply(self, vendor: str, path: str, query: dict[str, str], authorized: bool) -> Reply:
        if vendor == "clearbit":
            if not authorized:
                return Reply(401, {"error": {"type": "auth_required", "message": "API key required."}})
            domain = query.get("domain", "").lower()
            if not domain:
                return Reply(422, {"error": {"type": "params_invalid", "message": "domain is required"}})
            if domain.endswith(".invalid"):
                return Reply(422, {"error": {"type": "params_invalid", "message": "Invalid domain"}})
            if domain.startswith("unknown"):
                return Reply(404, {"error": {"type": "unknown_record", "message": "Unknown company."}})
            if domain.startswith("queued") and domain not in self._queued_seen:
                self._queued_seen.add(domain)
                return Reply(202, {"error": {"type": "queued", "message": "Lookup queued."}})
            return Reply(200, company_for(domain))
        if vendor == "peopledatalabs":
            if not authorized:
                return Reply(401, {"status": 401, "error": {"type": "authentication_error", "message": "No API key"}})
            website = query.get("website", "").lower()
            if website.startswith("unknown"):
                return Reply(404, {"status": 404, "error": {"type": "not_found", "message": "No records were found"}})
            return Reply(200, pdl_company_for(website))
        if vendor == "crunchbase":
            if not authorized:
                return Reply(401, [{"status": 401, "code": "LA401", "message": "Unauthorized user_key"}])
            permalink = unquote(path.rsplit("/", 1)[-1])
            if permalink.startswith("unknown"):
                return Reply(404, [{"status": 404, "code": "MD404", "message": "Entity not found"}])
            return Reply(200, organization_for(permalink))
        if vendor == "newsapi":
            if not authorized:
                return Reply(401, {"status": "error", "code": "apiKeyMissing", "message": "Your API key is missing."})
            q = query.get("q", "")
            if not q:
                return Reply(400, {"status": "error", "code": "parametersMissing", "message": "Required parameters are missing."})
            return Reply(200, news_for(q, int(query.get("pageSize", "20") or 20)))
        return Reply(404, {"error": {"type": "unknown_route", "message": "Unknown route."}})


def _vendor_for(path: str) -> str:
    if path.startswith("/v2/companies/"):
        return "clearbit"
    if path.startswith("/v5/company/"):
        return "peopledatalabs"
    if path.startswith(("/api/v4/entities/organizations/", "/v4/data/entities/organizations/")):
        return "crunchbase"
    if path.startswith("/v2/everything"):
        return "newsapi"
    return "unknown"


class _Handler(BaseHTTPRequestHandler):
    stand_in: FakeVendorServer
    protocol_version = "HTTP/1.1"
    server_version = "FakeVendors/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        headers = {k.lower(): v for k, v in self.headers.items()}
        vendor = _vendor_for(parts.path)
        self.stand_in._log(Call(vendor, parts.path, query, headers, time.monotonic()))
        reply = self.stand_in._next_scripted(vendor) or self.stand_in.default_reply(
            vendor, parts.path, query, _authorized(vendor, headers, query)
        )
        if reply.hang:
            self.stand_in._release.wait(reply.hang)
        if isinstance(reply.body, bytes):
            payload = reply.body
        elif reply.body is None and reply.status != 200:
            payload = b""
        else:
            payload = json.dumps(reply.body).encode()
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except OSError:  # the client gave up (timeout) or was killed
            self.close_connection = True


def _authorized(vendor: str, headers: dict[str, str], query: dict[str, str]) -> bool:
    if vendor == "clearbit":
        auth = headers.get("authorization", "")
        if auth.startswith("Basic "):
            try:
                user = base64.b64decode(auth[6:]).decode().split(":", 1)[0]
            except ValueError:
                return False
            return bool(user)
        return auth.startswith("Bearer ") and len(auth) > 7
    if vendor == "peopledatalabs":
        return bool(headers.get("x-api-key") or query.get("api_key"))
    if vendor == "crunchbase":
        return bool(headers.get("x-cb-user-key") or query.get("user_key"))
    if vendor == "newsapi":
        return bool(headers.get("x-api-key") or headers.get("authorization") or query.get("apiKey"))
    return True
