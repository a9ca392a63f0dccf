"""Fixtures for the real-time context tests: a Statuspage stand-in (a real
HTTP server on 127.0.0.1 serving ``/api/v2/summary.json``), customers with a
plan and region, and a service that uses the settings' caches."""

from __future__ import annotations

import datetime as dt
import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from enrichment.engine import service as service_module
from enrichment.engine.service import ContextEnrichmentService
from tests.billing.factories import PlanFactory, SubscriptionFactory
from tests.customers.factories import CustomerFactory
from tests.enrichment.conftest import add_events


def statuspage_summary(*, indicator="none", description="All Systems Operational", incidents=(), components=(), maintenances=()):
    """A summary.json body in Atlassian Statuspage's shape."""
    now = timezone.now().isoformat()
    return {
        "page": {"id": "pg1", "name": "Example Status", "url": "https://status.example.com", "time_zone": "UTC", "updated_at": now},
        "status": {"indicator": indicator, "description": description},
        "components": list(components),
        "incidents": list(incidents),
        "scheduled_maintenances": list(maintenances),
    }


def sp_component(name: str, status: str = "operational", cid: str | None = None) -> dict:
    return {"id": cid or f"c_{name.lower()}", "name": name, "status": status, "group": False, "position": 1,
            "description": None, "showcase": True, "only_show_if_degraded": False}  # fmt: skip


def sp_incident(name: str, *, impact="major", status="investigating", components=(), started=None, iid="inc1") -> dict:
    started = (started or timezone.now() - dt.timedelta(minutes=10)).isoformat()
    return {
        "id": iid, "name": name, "status": status, "impact": impact, "shortlink": "https://stspg.io/x",
        "created_at": started, "started_at": started, "updated_at": started, "monitoring_at": None, "resolved_at": None,
        "page_id": "pg1", "components": list(components),
        "incident_updates": [{"id": "u1", "status": status, "body": "We are investigating.", "created_at": started,
                              "display_at": started, "affected_components": None}],
    }  # fmt: skip


class StatuspageServer:
    """Serves whatever ``body`` (and ``status``/``content_type``) is set to."""

    def __init__(self):
        self.body: object = statuspage_summary()
        self.status = 200
        self.content_type = "application/json"
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                raw = server.body if isinstance(server.body, bytes) else json.dumps(server.body).encode()
                if self.path != "/api/v2/summary.json":
                    self.send_response(404)
                    raw = b'{"error": "not found"}'
                else:
                    self.send_response(server.status)
                self.send_header("Content-Type", server.content_type)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def statuspage(settings):
    with StatuspageServer() as server:
        settings.STATUSPAGE_URL = server.url
        settings.STATUSPAGE_TIMEOUT_SECONDS = 2.0
        yield server


@pytest.fixture
def shared_service(settings):
    """The process-wide service (used by signals, the API and the tasks) with both cache tiers."""
    service = ContextEnrichmentService(enable_caching=True, redis_url=settings.REDIS_URL, cache_ttl=300)
    service_module._SERVICE = service
    yield service
    service_module._SERVICE = None


def make_customer(*, external_id: str, plan: str = "premium", region: str = "us", features=None, api_calls: int = 0, **extra):
    """A customer on ``plan`` in ``region`` who used ``features`` in the last 30 days."""
    customer = CustomerFactory(external_id=external_id, region=region, customer_since=timezone.localdate() - dt.timedelta(days=400),
                               **extra)  # fmt: skip
    SubscriptionFactory(customer=customer, plan=PlanFactory(code=plan), mrr=Decimal("500.00"), seats_purchased=10, seats_used=8,
                        started_at=customer.customer_since, renewal_date=timezone.localdate() + dt.timedelta(days=200))  # fmt: skip
    add_events(customer, logins_30d=20, logins_prev=20, features_30d=dict.fromkeys(features or (), 3))
    if api_calls:
        from customers.models import EngagementEvent, EngagementKind

        now = timezone.now()
        calls = [EngagementEvent(customer=customer, kind=EngagementKind.API_CALL, occurred_at=now - dt.timedelta(hours=1 + i))
                 for i in range(api_calls)]  # fmt: skip
        EngagementEvent.objects.bulk_create(calls)
    return customer


@pytest.fixture
def api_clients(db):
    """(full-scope client, customer-facing client), with fresh token caches."""
    from enrichment.api.tokens import api_token_create, reset_token_cache
    from enrichment.context.scopes import TokenScope
    from tests.enrichment.api.helpers import client_for

    reset_token_cache()
    full = client_for(api_token_create(name="agent", scope=TokenScope.FULL)[1])
    facing = client_for(api_token_create(name="bot", scope=TokenScope.CUSTOMER_FACING)[1])
    yield full, facing
    reset_token_cache()
