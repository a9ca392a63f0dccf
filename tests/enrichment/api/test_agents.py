"""ContextAwareAgentMixin: the seed's agent integration, in process."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync

from enrichment.agents.client import ContextAwareAgentMixin
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
