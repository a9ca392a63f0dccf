"""The standalone client (clients/python, ``customer_context``) against a real
HTTP server: pytest-django's live_server on the real PostgreSQL, sync and
async, every method, and the errors mapped onto exceptions."""

from __future__ import annotations

import asyncio
import datetime as dt
from io import StringIO

import httpx
import pytest
from customer_context import (
    AsyncContextClient,
    AuthenticationError,
    BatchItem,
    Changes,
    Context,
    ContextClient,
    CustomerNotFoundError,
    CustomerPage,
    Event,
    IngestResult,
    NotFoundError,
    PermissionDeniedError,
    RetryPolicy,
    Summary,
    ValidationError,
)
from django.core.management import call_command

from enrichment.api.tokens import api_token_create
from enrichment.context.scopes import TokenScope
from support.models import Ticket
from tests.enrichment.api.helpers import ACME, HIDDEN_JSON_KEYS, all_keys

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SYSTEM = "You are a helpful support agent."


@pytest.fixture
def seeded(transactional_db):
    call_command("seed_demo", customers=2, stdout=StringIO())


@pytest.fixture
def ticket_id(seeded) -> int:
    return Ticket.objects.get(customer__external_id="customer_at_risk", subject="Scheduled reports arrive empty").pk


@pytest.fixture
def full_token(seeded) -> str:
    return api_token_create(name="live-agent", scope=TokenScope.FULL)[1]


def _event(n: int) -> Event:
    occurred = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat()
    return Event(event_id=f"live-{n}", customer_id=ACME, kind="feature_use", feature="reports", occurred_at=occurred)


def _check_context(context: Context) -> None:
    assert isinstance(context, Context)
    assert context.customer_id == ACME and context.company_name == "Acme Corp" and context.view == "full"
    assert context.sections["customer_intelligence"]["company_name"] == "Acme Corp"
    assert context["customer_id"] == ACME and "MRR:" in context.prompt and context.raw["prompt"] == context.prompt


def test_sync_client_every_method(live_server, full_token, ticket_id):
    with ContextClient(live_server.url, full_token, timeout=20) as client:
        _check_context(client.get_context(ACME))
        limited = client.get_context(ACME, sections=["support_history"], max_chars=300, refresh=True)
        assert "support_history" in limited.sections and "customer_intelligence" not in limited.sections
        assert limited.cache_hit is False

        prompt = client.get_prompt(ACME)
        assert prompt.startswith("<customer_context>\nAs of: ") and "\nCompany: Acme Corp\n" in prompt
        assert prompt.endswith("</customer_context>") and len(client.get_prompt(ACME, max_chars=300)) < len(prompt)

        summary = client.get_summary(ACME)
        assert isinstance(summary, Summary) and summary.company_name == "Acme Corp" and summary.health_score is not None

        changes = client.get_changes(ACME, since=dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
        assert isinstance(changes, Changes) and changes.customer_id == ACME
        assert client.get_changes(ACME, since_last_contact=True).since_last_contact is True

        by_email = client.context_for_email("jane@acme.com")
        assert by_email.customer_id == ACME and by_email.requester is not None and by_email.requester.email == "jane@acme.com"
        assert client.context_for_domain("acme.com").requester is None

        ticket = client.ticket_context(ticket_id)
        assert ticket.customer_id == "customer_at_risk" and ticket.ticket is not None and ticket.ticket.id == ticket_id
        assert ticket.ticket.priority == "urgent" and ticket.requester is not None
        assert "Ticket being answered:" in client.ticket_prompt(ticket_id)

        items = client.batch([ACME, "ghost", "../x"], emails=["jane@acme.com"])
        assert all(isinstance(item, BatchItem) for item in items)
        assert [item.status for item in items] == ["ok", "not_found", "invalid", "ok"]
        assert items[0].context.customer_id == ACME and items[1].error.code == "customer_not_found"
        assert items[3].context.requester.email == "jane@acme.com"

        client.invalidate(ACME)
        served = client.get_context(ACME)
        assert served.cache_hit is False and served.strategy == "default" and served.context_id.startswith("ctx1.")
        outcome = {"resolved": True, "csat": 5, "context_rating": 4}
        assert client.record_outcome("live-1", context_id=served.context_id, **outcome) == {"key": "live-1", "created": True}
        assert client.record_outcome("live-1", context_id=served.context_id, **outcome) == {"key": "live-1", "created": False}

        page = client.search_customers("acme", limit=5)
        assert isinstance(page, CustomerPage) and page.count >= 1 and page.results[0].external_id == ACME

        first = client.ingest_events([_event(1), _event(2).__dict__])
        assert isinstance(first, IngestResult) and (first.received, first.created, first.duplicates) == (2, 2, 0)
        assert client.ingest_events([_event(1)]).duplicates == 1

        injected = client.inject_context_into_prompt(SYSTEM, ACME, max_chars=600)
        assert injected.startswith(SYSTEM + "\n\n<customer_context>\n") and injected.endswith("</customer_context>")
        assert "Requester:" in client.inject_context_into_prompt(SYSTEM, email="jane@acme.com")
        assert "Ticket being answered:" in client.inject_context_into_prompt(SYSTEM, ticket_id=ticket_id)
        assert client.inject_context_into_prompt(SYSTEM, "ghost") == SYSTEM


async def _async_every_method(url: str, token: str, ticket_id: int) -> None:
    async with AsyncContextClient(url, token, timeout=20) as client:
        _check_context(await client.get_context(ACME))
        assert (await client.get_prompt(ACME, max_chars=400)).startswith("<customer_context>")
        assert (await client.get_summary(ACME)).company_name == "Acme Corp"
        assert (await client.get_changes(ACME, since_last_contact=True)).customer_id == ACME
        assert (await client.context_for_email("jane@acme.com")).requester.name
        assert (await client.context_for_domain("acme.com")).customer_id == ACME
        assert (await client.ticket_context(ticket_id)).ticket.id == ticket_id
        assert "Ticket being answered:" in await client.ticket_prompt(ticket_id)
        contexts, prompt = await asyncio.gather(client.batch([ACME], emails=["jane@acme.com"]), client.get_prompt(ACME))
        assert [item.ok for item in contexts] == [True, True] and "Acme Corp" in prompt
        await client.invalidate(ACME)
        served = await client.get_context(ACME)
        assert (await client.record_outcome("live-async", context_id=served.context_id, escalated=False))["created"] is True
        assert (await client.search_customers(ACME)).results[0].company_name == "Acme Corp"
        assert (await client.ingest_events([_event(3)])).created == 1
        assert (await client.inject_context_into_prompt(SYSTEM, ACME)).startswith(SYSTEM + "\n\n<customer_context>")
        with pytest.raises(CustomerNotFoundError):
            await client.get_summary("ghost")


def test_async_client_every_method(live_server, full_token, ticket_id):
    asyncio.run(_async_every_method(live_server.url, full_token, ticket_id))


def test_errors_are_mapped(live_server, full_token):
    with ContextClient(live_server.url, full_token, retry=RetryPolicy(max_attempts=1)) as client:
        with pytest.raises(CustomerNotFoundError) as not_found:
            client.get_context("ghost")
        assert not_found.value.status_code == 404 and not_found.value.code == "customer_not_found"
        assert not_found.value.details == {"lookup": "customer_id 'ghost'"}
        with pytest.raises(CustomerNotFoundError):
            client.context_for_email("nobody@acme.com")
        with pytest.raises(ValidationError) as invalid:
            client.get_prompt("../etc")
        assert invalid.value.status_code == 400 and invalid.value.code == "invalid_customer_id"
        with pytest.raises(ValidationError) as budget:
            client.get_context(ACME, max_chars=5)
        assert budget.value.code == "invalid_parameter"
        with pytest.raises(ValidationError) as too_many:
            client.batch([f"c{i}" for i in range(101)])
        assert too_many.value.code == "batch_too_large"
        with pytest.raises(NotFoundError) as no_url:
            client.request("GET", "nowhere/")
        assert no_url.value.code == "not_found" and not isinstance(no_url.value, CustomerNotFoundError)
        with pytest.raises(CustomerNotFoundError):
            client.inject_context_into_prompt(SYSTEM, "ghost", fallback=False)


def test_customer_facing_and_bad_token_live(seeded, live_server):
    _token, raw = api_token_create(name="bot", scope=TokenScope.CUSTOMER_FACING)
    with ContextClient(live_server.url, raw) as client:
        context = client.get_context(ACME)
        assert context.view == "customer_facing" and context.company_name == "Acme Corp" and not context.sections
        assert not all_keys(context.raw) & HIDDEN_JSON_KEYS
        prompt = client.get_prompt(ACME)
        assert "MRR:" not in prompt and "Churn Risk:" not in prompt
        summary = client.get_summary(ACME)
        assert summary.churn_risk is None and summary.health_score is None and "churn_risk" not in summary
        with pytest.raises(PermissionDeniedError) as denied:
            client.search_customers("acme")
        assert denied.value.status_code == 403 and denied.value.code == "permission_denied"
    with ContextClient(live_server.url, "cce_000000000000_" + "x" * 43) as client, pytest.raises(AuthenticationError) as bad:
        client.get_context(ACME)
    assert bad.value.status_code == 401 and bad.value.code == "authentication_failed"


def test_healthz_and_docs_live(seeded, live_server):
    assert httpx.get(f"{live_server.url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{live_server.url}/readyz").json()["checks"]["database"] == "ok"
    docs = httpx.get(f"{live_server.url}/api/docs/")
    assert docs.status_code == 200
    asset = httpx.get(f"{live_server.url}/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css")
    assert asset.status_code == 200 and asset.headers["content-type"].startswith("text/css")
