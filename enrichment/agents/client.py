"""Giving agents the customer's context.

Three ways, one vocabulary (the method names and result types of the
standalone client package, ``clients/python``, import name ``customer_context``):

- another program, anywhere: ``customer_context.ContextClient`` /
  ``AsyncContextClient`` over HTTP (no Django needed; re-exported here);
- this Django process: :class:`~enrichment.agents.local.InProcessContextClient`
  / ``AsyncInProcessContextClient``, the same methods without HTTP;
- an agent class in this process: :class:`ContextAwareAgentMixin` (the
  seed's ``CONTEXT_AWARE`` capability), self-contained::

    class SupportAgent(ContextAwareAgentMixin):
        async def reply(self, customer_id: str, message: str) -> str:
            system = await self.inject_context_into_prompt("You are a helpful support agent.", customer_id)
            return await call_llm(system, message)
"""

from __future__ import annotations

from typing import Any

import structlog
from customer_context import inject_context_into_prompt

from enrichment.context.customer_view import customer_prompt
from enrichment.context.enriched import EnrichedContext
from enrichment.context.exceptions import ContextEnrichmentError
from enrichment.context.scopes import TokenScope, is_restricted
from enrichment.engine.service import get_context_service

logger = structlog.get_logger(__name__)


class ContextAwareAgentMixin:
    """Context for agents running in-process, through the context service's async methods.

    Class attributes to tune it: ``context_scope`` (``"customer_facing"`` renders
    the customer-facing block of :mod:`enrichment.context.customer_view`), ``context_max_chars`` (the
    prompt budget) and ``context_service`` (defaults to the shared service).
    A missing customer or an unavailable context never breaks the agent:
    :meth:`get_enriched_context` returns ``None`` and the prompt is left as it is.
    """

    context_scope: str = TokenScope.FULL
    context_max_chars: int | None = None
    context_service: Any = None

    def _get_context_service(self):
        if self.context_service is not None:
            return self.context_service
        return get_context_service()

    async def get_enriched_context(self, customer_id: str | None, *, force_refresh: bool = False) -> EnrichedContext | None:
        if not customer_id:
            return None
        try:
            return await self._get_context_service().aenrich_context(customer_id, force_refresh=force_refresh)
        except ContextEnrichmentError as exc:
            logger.warning("agent_context_unavailable", customer_id=customer_id, error=type(exc).__name__)
            return None

    async def inject_context_into_prompt(self, system_prompt: str, customer_id: str | None) -> str:
        """``system_prompt`` followed by the ``<customer_context>`` block."""
        context = await self.get_enriched_context(customer_id)
        if context is None:
            return system_prompt
        if is_restricted(self.context_scope):
            block = customer_prompt(context, max_chars=self.context_max_chars)
        else:
            block = context.to_prompt_context(max_chars=self.context_max_chars)
        return inject_context_into_prompt(system_prompt, block)
