"""The MCP server over streamable HTTP at /mcp, driven by the official SDK's
own client against a live server: tools, resources, scopes, errors, auth."""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client

from enrichment.context.scopes import TokenScope
from enrichment.history.models import ConversationOutcome
from support.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)

TOOLS = {"get_context", "search_customers", "get_changes", "record_outcome"}


def call(live_server, token: str, action) -> Any:
    """Run ``action(client)`` in an MCP session over HTTP with this token."""

    async def main():
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30)
        async with http, Client(streamable_http_client(f"{live_server.url}/mcp", http_client=http)) as client:
            return await action(client)

    return anyio.run(main)


def result_json(result) -> dict:
    assert result.content, result
    return json.loads(result.content[0].text)


@pytest.fixture
def seeded(demo, live_server):
    return live_server


def test_tools_are_described_with_typed_inputs_and_outputs(seeded, full_token):
    async def action(client):
        return (await client.list_tools()).tools

    tools = {tool.name: tool for tool in call(seeded, full_token, action)}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert len(tool.description) > 120, tool.name
        assert tool.input_schema["type"] == "object"
    assert {"ticket_id", "email", "customer_id", "domain", "format", "max_chars"} <= set(tools["get_context"].input_schema["properties"])
    assert tools["get_context"].output_schema["properties"]["prompt"]["type"] == "string"
    assert tools["record_outcome"].input_schema["required"] == ["key"]
    assert {"context_id", "ticket_id", "csat", "context_rating"} <= set(tools["record_outcome"].input_schema["properties"])
    assert tools["get_context"].annotations.read_only_hint is True


def test_get_context_by_ticket_email_id_and_domain(seeded, full_token):
    ticket = Ticket.objects.get(subject="Scheduled reports arrive empty")

    async def action(client):
        return [
            await client.call_tool("get_context", {"ticket_id": ticket.pk}),
            await client.call_tool("get_context", {"email": "jane@acme.com", "format": "json"}),
            await client.call_tool("get_context", {"customer_id": "customer_123", "max_chars": 300}),
            await client.call_tool("get_context", {"domain": "acme.com"}),
        ]

    by_ticket, by_email, by_id, by_domain = call(seeded, full_token, action)
    assert not by_ticket.is_error and by_ticket.structured_content["customer_id"] == "customer_at_risk"
    assert "Ticket being answered:" in by_ticket.structured_content["prompt"].splitlines()
    assert by_email.structured_content["context"]["requester"]["name"] == "Jane Doe"
    assert "Health Score: 85/100 (Good)" in by_email.structured_content["prompt"]
    assert len(by_id.structured_content["prompt"]) <= 300
    assert by_domain.structured_content["customer_id"] == "customer_123"


def test_errors_come_back_in_the_api_shape(seeded, full_token):
    async def action(client):
        return [
            await client.call_tool("get_context", {"customer_id": "nobody"}),
            await client.call_tool("get_context", {"customer_id": "customer_123", "email": "jane@acme.com"}),
            await client.call_tool("get_context", {"customer_id": "bad id!"}),
            await client.call_tool("get_changes", {"customer_id": "customer_123", "since": "yesterday"}),
        ]

    unknown, two, malformed, bad_since = call(seeded, full_token, action)
    for result in (unknown, two, malformed, bad_since):
        assert result.is_error
    assert '"code": "customer_not_found"' in unknown.content[0].text
    for result in (two, malformed, bad_since):
        assert '"code": "invalid_parameter"' in result.content[0].text, result.content[0].text


def test_a_customer_facing_token_gets_the_customer_facing_view(seeded, cf_token):
    async def action(client):
        return [
            await client.call_tool("get_context", {"email": "jane@acme.com", "format": "json"}),
            await client.call_tool("search_customers", {"query": "acme"}),
            await client.read_resource("customer://customer_at_risk/context"),
            await client.call_tool("get_changes", {"customer_id": "customer_at_risk"}),
        ]

    context, search, resource, changes = call(seeded, cf_token, action)
    assert context.structured_content["context"]["view"] == "customer_facing"
    text = json.dumps(context.structured_content) + resource.contents[0].text + json.dumps(changes.structured_content)
    for internal in ("Health Score", "Churn", "MRR", "health_score", "churn_risk", "Escalate", "Marcus Lee"):
        assert internal not in text, internal
    assert search.is_error and '"code": "permission_denied"' in search.content[0].text


def test_resources_by_uri(seeded, full_token):
    async def action(client):
        templates = (await client.list_resource_templates()).resource_templates
        prompt = await client.read_resource("customer://customer_123/context")
        data = await client.read_resource("customer://customer_123/context.json")
        return templates, prompt, data

    templates, prompt, data = call(seeded, full_token, action)
    assert {t.uri_template for t in templates} == {"customer://{customer_id}/context", "customer://{customer_id}/context.json"}
    assert prompt.contents[0].text.startswith("<customer_context>\nAs of: ")
    assert json.loads(data.contents[0].text)["customer_intelligence"]["company_name"] == "Acme Corp"


def test_record_outcome_against_the_context_served_is_idempotent(seeded, full_token):
    async def action(client):
        served = (await client.call_tool("get_context", {"customer_id": "customer_123"})).structured_content
        arguments = {"key": "conv-42", "context_id": served["context_id"], "resolved": True, "csat": 5, "context_rating": 4}
        first = await client.call_tool("record_outcome", arguments)
        again = await client.call_tool("record_outcome", arguments)
        forged = await client.call_tool("record_outcome", {"key": "conv-43", "context_id": "ctx1.x.y"})
        return served, first, again, forged

    served, first, again, forged = call(seeded, full_token, action)
    assert served["strategy"] == "default" and served["context_id"].startswith("ctx1.")
    assert first.structured_content == {"key": "conv-42", "created": True}
    assert again.structured_content == {"key": "conv-42", "created": False}
    assert forged.is_error and '"code": "context_not_found"' in forged.content[0].text
    stored = ConversationOutcome.objects.get(key="conv-42")
    assert (stored.customer_external_id, stored.resolved, stored.csat, stored.context_rating) == ("customer_123", True, 5, 4)
    assert stored.recorded_by.startswith("test-agent") and stored.context_id == served["context_id"]


def test_http_auth_throttle_and_errors_are_the_apis(seeded, full_token, make_token, settings):
    url = f"{seeded.url}/mcp"
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-06-18"}
    missing = httpx.post(url, json=body, headers=headers)
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "not_authenticated"
    wrong = httpx.post(url, json=body, headers={**headers, "Authorization": "Bearer cce_000000000000_nope"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "authentication_failed"
    settings.API_MAX_BODY_BYTES = 1000
    big = httpx.post(url, content=b"{" + b" " * 2000 + b"}", headers={**headers, "Authorization": f"Bearer {full_token}"})
    assert big.status_code == 413 and big.json()["error"]["code"] == "request_too_large"
    settings.API_THROTTLE_RATE = "2/min"
    limited = make_token(TokenScope.FULL)
    answers = [httpx.post(url, json=body, headers={**headers, "Authorization": f"Bearer {limited}"}) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].json()["error"]["code"] == "throttled" and int(answers[2].headers["Retry-After"]) >= 1


def test_the_injection_corpus_through_the_prompt_tool(seeded, full_token):
    """Hostile company names and ticket subjects reach the block as data: one
    block, no line a payload wrote, every line from the renderer."""
    from customers.models import Customer
    from tests.enrichment.context.test_prompt_safety import INJECTION_CORPUS, label_of

    acme = Customer.objects.get(external_id="customer_123")
    ticket = Ticket.objects.filter(customer=acme, status="open").first()
    prompts = []
    for payload in INJECTION_CORPUS.values():
        stored = payload.replace("\x00", "").encode("utf-8", "replace").decode()[:200]  # PostgreSQL text: no NUL, valid UTF-8
        Customer.objects.filter(pk=acme.pk).update(company_name=stored)
        Ticket.objects.filter(pk=ticket.pk).update(subject=stored or "x")

        async def action(client, ticket_id=ticket.pk):
            return await client.call_tool("get_context", {"ticket_id": ticket_id, "refresh": True})

        prompts.append(call(seeded, full_token, action).structured_content["prompt"])
    for prompt in prompts:
        lines = prompt.split("\n")
        assert lines[0] == "<customer_context>" and lines[-1] == "</customer_context>"
        assert prompt.count("<customer_context>") == 1 and prompt.count("</customer_context>") == 1
        assert not any(line.startswith("- wire") for line in lines)
        assert all(label_of(line) is not None for line in lines)  # raises on a line no renderer wrote
        assert max(len(line) for line in lines) <= 300
