"""The database connection killed under a request: the service reconnects and
retries once; if the database is really gone the API answers 503, never 500.
Every failure here is real: backends terminated with pg_terminate_backend, or a
connection pointed at a port where nothing listens."""

from __future__ import annotations

import contextlib
import socket
import time

import psycopg
import pytest
from celery.exceptions import Retry
from django.db import connection

from config.db import connection_discard
from enrichment.context.exceptions import ContextUnavailable
from enrichment.engine.service import ContextEnrichmentService
from enrichment.providers.internal import SupportHistoryProvider
from enrichment.providers.registry import load_providers
from tests.enrichment.api.helpers import client_for

pytestmark = pytest.mark.django_db(transaction=True)


def kill_my_backend() -> None:
    """pg_terminate_backend on this connection, from a second connection."""
    pid = connection.cursor().connection.info.backend_pid
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"], dbname="postgres", autocommit=True
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # released on return: nothing listens there


@contextlib.contextmanager
def unreachable_database():
    """Point the connection at a port where nothing listens (with a short pool
    wait), then restore it."""
    real_port = connection.settings_dict["PORT"]
    pool_options = connection.settings_dict["OPTIONS"].get("pool")
    real_timeout = pool_options["timeout"] if pool_options else None
    try:
        connection.close()  # back to the pool, then the pool itself: the next connection is made anew
        connection.close_pool()
        connection.settings_dict["PORT"] = str(closed_port())
        if pool_options:
            pool_options["timeout"] = 1.0
        yield
    finally:
        connection.close()
        connection.close_pool()
        connection.settings_dict["PORT"] = real_port
        if pool_options:
            pool_options["timeout"] = real_timeout


class KillsItsConnection(SupportHistoryProvider):
    """Terminates its own database backend right before querying, ``times``
    times. Its statements are not sent ahead in the pipeline, so they are the
    ones that meet the dead connection."""

    def __init__(self, times: int):
        self.left = times

    def planned_queries(self, request):
        return ()

    def fetch_many(self, requests, *, sections):
        if self.left:
            self.left -= 1
            kill_my_backend()
        return super().fetch_many(requests, sections=sections)


class KillsTheConnectionBeforeThePipeline(SupportHistoryProvider):
    """Terminates the backend while the statements are being planned, ``times`` times."""

    def __init__(self, times: int):
        self.left = times

    def planned_queries(self, request):
        if self.left:
            self.left -= 1
            kill_my_backend()
        return super().planned_queries(request)


def service_with(provider) -> ContextEnrichmentService:
    providers = [provider if p.key == provider.key else p for p in load_providers()]
    return ContextEnrichmentService(enable_caching=False, providers=providers)


def test_a_killed_connection_is_reconnected_and_the_request_succeeds(acme):
    service = ContextEnrichmentService(enable_caching=False)
    assert service.enrich_context("customer_123").customer_intelligence.health_score == 85
    kill_my_backend()
    ctx = service.enrich_context("customer_123")
    assert ctx.customer_intelligence.health_score == 85
    assert ctx.degraded == ()


def test_a_connection_killed_in_the_middle_of_an_enrichment_is_retried(acme):
    ctx = service_with(KillsItsConnection(times=1)).enrich_context("customer_123")
    assert ctx.degraded == ()
    assert ctx.support_history.total_conversations == 12


def test_a_connection_lost_under_the_pipelined_statements_is_reconnected_and_the_context_is_whole(acme):
    ctx = service_with(KillsTheConnectionBeforeThePipeline(times=1)).enrich_context("customer_123")
    assert ctx.degraded == ()
    assert ctx.support_history.total_conversations == 12
    assert ctx.engagement_metrics.login_count_30d == 45


def test_a_connection_lost_again_on_the_retry_degrades_only_that_section(acme):
    ctx = service_with(KillsItsConnection(times=2)).enrich_context("customer_123")
    assert [(d.section, d.reason) for d in ctx.degraded] == [("support_history", "database error: OperationalError")]
    assert ctx.engagement_metrics.login_count_30d == 45


def test_an_unreachable_database_is_a_503_with_the_error_shape_and_recovers(acme, make_token):
    client = client_for(make_token())
    assert client.get("/api/v1/customers/customer_123/context/").status_code == 200
    with unreachable_database():
        started = time.monotonic()
        response = client.get("/api/v1/customers/customer_123/context/?refresh=true")
        assert response.status_code == 503
        assert time.monotonic() - started < 5, "an unreachable database must fail fast, not retry the wait"
        assert response.json()["error"]["code"] == "context_unavailable"
    assert client.get("/api/v1/customers/customer_123/context/?refresh=true").status_code == 200


# -- many contexts at once take the same path: reconnect, retry, then what is cached -----------------


def test_a_batch_whose_connection_is_killed_is_retried_whole(acme):
    ctxs = service_with(KillsItsConnection(times=1)).enrich_many(["customer_123", "nobody_here"])
    assert ctxs["customer_123"].degraded == ()
    assert ctxs["customer_123"].support_history.total_conversations == 12
    assert type(ctxs["nobody_here"]).__name__ == "CustomerNotFound"


class ExpiresAtOnce(SupportHistoryProvider):
    ttl = 0  # every cached copy of this section is stale: a hit needs the database


def test_with_the_database_gone_a_batch_is_served_from_the_cache_or_not_at_all(acme, settings):
    from tests.enrichment.engine.test_batch import make_customers

    (other,) = make_customers(1, "gone")
    providers = [ExpiresAtOnce() if p.key == "support_history" else p for p in load_providers()]
    service = ContextEnrichmentService(
        enable_caching=True, redis_url=settings.REDIS_URL, cache_ttl=60, l1_max_entries=0, providers=providers
    )
    service.enrich_many(["customer_123"])  # cached in L2 only; `other` is not cached at all
    with unreachable_database():
        served = service.enrich_many(["customer_123"])["customer_123"]
        assert served.cache_hit and served.support_history.total_conversations == 12
        with pytest.raises(ContextUnavailable):
            service.enrich_many(["customer_123", other])
    assert service.enrich_many([other])[other].customer_intelligence.customer_id == other


def test_a_refresh_task_retries_later_when_the_database_is_unreachable(acme):
    from enrichment.engine.tasks import refresh_context_batch

    with unreachable_database(), pytest.raises(Retry, match="database is unreachable"):
        refresh_context_batch.apply(args=[["customer_123"]])  # eager: the retry propagates
    assert refresh_context_batch.apply(args=[["customer_123"]]).get() == 1


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/v1/customers/?search=acme"),
        ("get", "/api/v1/context/?email=jane@acme.com"),
        ("post", "/api/v1/customers/customer_123/context/invalidate/"),
    ],
)
def test_an_unreachable_database_is_a_503_on_every_endpoint_not_a_500(acme, make_token, method, path):
    client = client_for(make_token())
    client.raise_request_exception = False
    with unreachable_database():
        started = time.monotonic()
        response = getattr(client, method)(path)
        assert time.monotonic() - started < 5
    assert response.status_code == 503, response.content
    assert response.json()["error"]["code"] == "database_unavailable"
    assert response["Retry-After"] == "5"
    assert getattr(client, method)(path).status_code in (200, 204)


def test_a_killed_connection_under_a_search_is_retried_once_on_a_fresh_one(acme, make_token):
    client = client_for(make_token())
    assert client.get("/api/v1/customers/?search=acme").status_code == 200
    kill_my_backend()
    response = client.get("/api/v1/customers/?search=acme")
    assert response.status_code == 200, response.content
    assert [row["external_id"] for row in response.json()["results"]] == ["customer_123"]


def test_the_admin_retries_a_read_but_never_replays_a_write(acme, admin_client):
    admin_client.raise_request_exception = False
    assert admin_client.get("/admin/customers/customer/").status_code == 200
    kill_my_backend()
    assert admin_client.get("/admin/customers/customer/").status_code == 200  # retried on a fresh connection
    kill_my_backend()
    response = admin_client.post("/admin/customers/customer/add/", {"external_id": "new_one", "company_name": "New"})
    assert response.status_code == 503  # not idempotent: not replayed, and not a 500
    assert "temporarily unreachable" in response.content.decode()


def test_a_query_the_database_cancels_is_a_503_not_a_500(acme, make_token):
    """Another transaction holds the event id being ingested; with a lock
    timeout the database cancels the wait (55P03): the database's state, so 503."""
    s = connection.settings_dict
    event = {"event_id": "held", "customer_id": "customer_123", "kind": "login", "occurred_at": "2026-11-20T10:00:00Z"}
    with psycopg.connect(host=s["HOST"], port=s["PORT"] or 5432, user=s["USER"], dbname=s["NAME"]) as holder:
        holder.execute(
            "INSERT INTO customers_engagementevent (event_id, customer_id, kind, feature, occurred_at)"
            " SELECT 'held', id, 'login', '', now() FROM customers_customer WHERE external_id = 'customer_123'"
        )  # not committed: the id is locked
        client = client_for(make_token())
        client.raise_request_exception = False
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 200")
        try:
            response = client.post("/api/v1/events/", {"events": [event]}, format="json")
        finally:
            connection_discard()
        holder.rollback()
    assert response.status_code == 503, response.content
    assert response.json()["error"]["code"] == "database_unavailable"
    assert client.post("/api/v1/events/", {"events": [event]}, format="json").json()["created"] == 1
