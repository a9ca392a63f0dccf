"""Giving agents the customer's context: ``from enrichment.agents import
ContextAwareAgentMixin, ContextClient`` (see :mod:`enrichment.agents.client`)."""

from enrichment.agents.client import ContextAPIError, ContextAwareAgentMixin, ContextClient, CustomerNotFoundError

__all__ = ["ContextAPIError", "ContextAwareAgentMixin", "ContextClient", "CustomerNotFoundError"]
