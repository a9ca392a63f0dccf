"""In process: ContextAwareAgentMixin (the seed's agent integration) and
InProcessContextClient (the standalone client's interface without HTTP)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from customer_context import Context, ContextAPIError, ContextClient, CustomerNotFoundError, PermissionDeniedError, Summary, ValidationError

from enrichment.agents import AsyncInProcessContextClient, ContextAwareAgentMixin, InProcessContextClient
from enrichment.context.enriched import EnrichedContext
from enrichment.context.scopes import TokenScope
from tests.enrichment.api.helpers import ACME

pytestmark = pytest.mark.django_db


class BaseAgent:
    def __init__(self, name: str):
        self.name = name


class SupportAgent(ContextAwareAgentMixin, BaseAgent):
    pass


class CustomerBot(ContextAwareAgentMixin, BaseAgent):
    context_scope = TokenScope.CUSTOMER_FACING
    context_max_chars = 400


def test_get_enriched_context(demo):
    agent = SupportAgent("support")
    context = async_to_sync(agent.get_enriched_context)(ACME)
    assert isinstance(context, EnrichedContext)
    assert context.customer_intelligence.company_name == "Acme Corp"


def test_inject_context_into_prompt(demo):
    agent = SupportAgent("support")
    prompt = async_to_sync(agent.inject_context_into_prompt)("You are a helpful support agent.", ACME)
    assert prompt.startswith("You are a helpful support agent.\n\n<customer_context>\n")
    assert "Company: Acme Corp" in prompt and "MRR:" in prompt and prompt.endswith("</customer_context>")


def test_customer_facing_agent_prompt_is_redacted_and_budgeted(demo):
    prompt = async_to_sync(CustomerBot("bot").inject_context_into_prompt)("Be kind.", ACME)
    assert "Company: Acme Corp" in prompt
    assert "MRR:" not in prompt and "Churn Risk:" not in prompt
    assert len(prompt.split("\n\n", 1)[1]) <= 400 or "Omitted" in prompt


@pytest.mark.parametrize("customer_id", [None, "", "ghost_customer", "../etc"])
def test_missing_context_leaves_the_prompt_alone(demo, customer_id):
    agent = SupportAgent("support")
    assert async_to_sync(agent.get_enriched_context)(customer_id) is None
    assert async_to_sync(agent.inject_context_into_prompt)("System.", customer_id) == "System."


# --- InProcessContextClient: the standalone client's interface, without HTTP ---------------------


def test_in_process_client_has_the_http_clients_methods():
    public = {name for name in dir(ContextClient) if not name.startswith("_")} - {"request", "close", "retry", "base_url"}
    assert public <= set(dir(InProcessContextClient))
    async_client = AsyncInProcessContextClient()
    assert all(callable(getattr(async_client, name)) for name in public)


def test_in_process_client_returns_the_clients_types(demo):
    client = InProcessContextClient()
    context = client.get_context(ACME, sections=["support_history"], max_chars=400)
    assert isinstance(context, Context) and context.customer_id == ACME and "Company: Acme Corp" in context.prompt
    assert set(context.sections) == {"support_history"} and "MRR:" in context.prompt
    assert client.get_prompt(ACME).startswith("<customer_context>")
    assert isinstance(client.get_summary(ACME), Summary)
    assert client.get_changes(ACME, since_last_contact=True).customer_id == ACME
    assert client.context_for_email("jane@acme.com").requester.email == "jane@acme.com"
    assert client.context_for_domain("acme.com").customer_id == ACME
    assert [item.status for item in client.batch([ACME, "ghost"], emails=["jane@acme.com"])] == ["ok", "not_found", "ok"]
    client.invalidate(ACME)
    assert client.search_customers("acme").results[0].external_id == ACME
    event = {"event_id": "in-1", "customer_id": ACME, "kind": "login", "occurred_at": "2025-11-13T14:32:00Z"}
    assert client.ingest_events([event]).received == 1
    assert client.inject_context_into_prompt("System.", ACME).startswith("System.\n\n<customer_context>")
    assert client.inject_context_into_prompt("System.", "ghost") == "System."


def test_in_process_client_raises_the_clients_errors(demo):
    client = InProcessContextClient()
    with pytest.raises(CustomerNotFoundError) as missing:
        client.get_context("ghost")
    assert missing.value.status_code == 404 and missing.value.code == "customer_not_found"
    with pytest.raises(ValidationError) as invalid:
        client.get_prompt("../etc")
    assert invalid.value.code == "invalid_customer_id"
    with pytest.raises(ValidationError) as unknown:
        client.ingest_events([{"event_id": "x", "customer_id": "ghost", "kind": "login", "occurred_at": "2025-11-13T14:32:00Z"}])
    assert unknown.value.code == "unknown_customers"
    with pytest.raises(ValidationError) as too_many:
        client.batch([f"c{i}" for i in range(101)])
    assert too_many.value.code == "batch_too_large" and too_many.value.status_code == 400
    with pytest.raises(ValidationError) as bad_event:
        client.ingest_events([{"event_id": "x", "customer_id": ACME, "kind": "teleport", "occurred_at": "2025-11-13T14:32:00Z"}])
    assert bad_event.value.code == "invalid_request" and "kind" in bad_event.value.message
    bot = InProcessContextClient(TokenScope.CUSTOMER_FACING)
    assert bot.get_context(ACME).view == "customer_facing"
    with pytest.raises(PermissionDeniedError):
        bot.search_customers("acme")


def test_async_in_process_client(demo):
    client = AsyncInProcessContextClient()
    context = async_to_sync(client.get_context)(ACME)
    assert context.customer_id == ACME
    assert "Requester:" in async_to_sync(client.inject_context_into_prompt)("System.", email="jane@acme.com")
    budgeted = AsyncInProcessContextClient(max_chars=500)
    assert len(async_to_sync(budgeted.inject_context_into_prompt)("System.", ACME)) <= len("System.\n\n") + 500


def test_the_readme_mixin_example_runs_as_written(demo):
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    block = next(b for b in re.findall(r"```python\n(.*?)```", readme, re.DOTALL) if "class SupportAgent(ContextAwareAgentMixin)" in b)
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)
    agent = namespace["SupportAgent"]()
    prompt = async_to_sync(agent.system_prompt)(ACME)
    assert prompt.startswith("You are a helpful support agent.\n\n<customer_context>\n") and "Audience: customer-facing" in prompt
    assert "MRR:" not in prompt and len(prompt) <= len("You are a helpful support agent.\n\n") + 2000
    assert async_to_sync(agent.system_prompt)("ghost") == "You are a helpful support agent."
    assert async_to_sync(agent.health)(ACME) == 85


def test_in_process_outcomes_against_the_context_served(demo):
    client = InProcessContextClient()
    served = client.get_context("customer_123")
    assert served.strategy == "default" and served.context_id.startswith("ctx1.")
    assert client.record_outcome("in-process-1", context_id=served.context_id, csat=4) == {"key": "in-process-1", "created": True}
    assert client.record_outcome("in-process-1", context_id=served.context_id, csat=4)["created"] is False
    with pytest.raises(ContextAPIError) as raised:
        client.record_outcome("in-process-2", context_id="ctx1.forged.x")
    assert (raised.value.status_code, raised.value.code) == (404, "context_not_found")
