"""The httpx ContextClient against a real HTTP server (pytest-django's live_server)."""

from __future__ import annotations

from io import StringIO

import httpx
import pytest
from django.core.management import call_command

from enrichment.agents.client import ContextAPIError, ContextClient, CustomerNotFoundError
from enrichment.api.tokens import api_token_create
from enrichment.context.scopes import TokenScope
from tests.enrichment.api.helpers import ACME, HIDDEN_JSON_KEYS, all_keys

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def seeded(transactional_db):
    call_command("seed_demo", customers=2, stdout=StringIO())


def test_client_against_live_server(seeded, live_server):
    _token, raw = api_token_create(name="live-agent", scope=TokenScope.FULL)
    with ContextClient(live_server.url, raw, timeout=10) as client:
        context = client.get_context(ACME)
        assert context["customer_id"] == ACME
        assert context["customer_intelligence"]["company_name"] == "Acme Corp"
        assert "MRR:" in context["prompt"]

        limited = client.get_context(ACME, sections=["support_history"], max_chars=300, refresh=True)
        assert "support_history" in limited and "customer_intelligence" not in limited
        assert limited["cache_hit"] is False

        prompt = client.get_prompt(ACME)
        assert prompt.startswith("<customer_context>\nAs of: ") and "\nCompany: Acme Corp\n" in prompt
        assert prompt.endswith("</customer_context>")
        assert len(client.get_prompt(ACME, max_chars=300)) < len(prompt)

        summary = client.get_summary(ACME)
        assert summary["company_name"] == "Acme Corp" and "churn_risk" in summary

        assert client.context_for_email("jane@acme.com")["customer_id"] == ACME
        assert client.context_for_domain("acme.com")["customer_id"] == ACME
        client.invalidate(ACME)
        assert [r["status"] for r in client.batch([ACME, "ghost"])] == ["ok", "not_found"]

        with pytest.raises(CustomerNotFoundError) as not_found:
            client.get_context("ghost")
        assert not_found.value.status_code == 404 and not_found.value.code == "customer_not_found"
        with pytest.raises(ContextAPIError) as invalid:
            client.get_prompt("../etc")
        assert invalid.value.status_code == 400 and invalid.value.code == "invalid_customer_id"


def test_customer_facing_and_bad_token_live(seeded, live_server):
    _token, raw = api_token_create(name="bot", scope=TokenScope.CUSTOMER_FACING)
    with ContextClient(live_server.url, raw) as client:
        context = client.get_context(ACME)
        assert not all_keys(context) & HIDDEN_JSON_KEYS
        prompt = client.get_prompt(ACME)
        assert "MRR:" not in prompt and "Churn Risk:" not in prompt
    with ContextClient(live_server.url, "cce_000000000000_" + "x" * 43) as client, pytest.raises(ContextAPIError) as bad:
        client.get_context(ACME)
    assert bad.value.status_code == 401 and bad.value.code == "authentication_failed"


def test_healthz_and_docs_live(seeded, live_server):
    assert httpx.get(f"{live_server.url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{live_server.url}/readyz").json()["checks"]["database"] == "ok"
    docs = httpx.get(f"{live_server.url}/api/docs/")
    assert docs.status_code == 200
    asset = httpx.get(f"{live_server.url}/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css")
    assert asset.status_code == 200 and asset.headers["content-type"].startswith("text/css")
