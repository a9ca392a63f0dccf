"""The database connection killed under a request: the service reconnects and
retries once; if the database is really gone the API answers 503, never 500."""

from __future__ import annotations

import pytest
from django.db import connection

from enrichment.service import ContextEnrichmentService
from tests.enrichment.api.helpers import client_for


def kill_my_backend() -> None:
    """pg_terminate_backend on this connection, from a second connection."""
    import psycopg

    pid = connection.cursor().connection.info.backend_pid
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"], dbname="postgres", autocommit=True
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


@pytest.mark.django_db(transaction=True)
def test_a_killed_connection_is_reconnected_and_the_request_succeeds(acme):
    service = ContextEnrichmentService(enable_caching=False)
    assert service.enrich_context("customer_123").customer_intelligence.health_score == 85
    kill_my_backend()
    ctx = service.enrich_context("customer_123")
    assert ctx.customer_intelligence.health_score == 85
    assert ctx.degraded == ()


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_database_is_a_503_with_the_error_shape(acme, make_token, monkeypatch):
    from enrichment import service as service_module

    token = make_token()
    client = client_for(token)
    assert client.get("/api/v1/customers/customer_123/context/").status_code == 200

    def broken(**_kwargs):
        from django.db import OperationalError

        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(service_module, "customer_ref_get", broken)
    response = client.get("/api/v1/customers/customer_123/context/?refresh=true")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "context_unavailable"
    monkeypatch.undo()
    assert client.get("/api/v1/customers/customer_123/context/?refresh=true").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_provider_losing_the_database_once_is_retried_and_persistent_loss_degrades_it(acme, monkeypatch):
    from django.db import OperationalError

    from enrichment.providers.internal import SupportHistoryProvider

    real = SupportHistoryProvider.fetch_many
    calls = []

    def flaky(self, requests, *, sections):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("connection lost")
        return real(self, requests, sections=sections)

    monkeypatch.setattr(SupportHistoryProvider, "fetch_many", flaky)
    ctx = ContextEnrichmentService(enable_caching=False).enrich_context("customer_123")
    assert ctx.degraded == () and ctx.support_history.total_conversations == 12 and len(calls) == 2

    def down(self, requests, *, sections):
        raise OperationalError("connection lost")

    monkeypatch.setattr(SupportHistoryProvider, "fetch_many", down)
    ctx = ContextEnrichmentService(enable_caching=False).enrich_context("customer_123")
    assert [(d.section, d.reason) for d in ctx.degraded] == [("support_history", "database error: OperationalError")]
    assert ctx.engagement_metrics.login_count_30d == 45
