"""Giving agents the customer's context (see :mod:`enrichment.agents.client`).

``ContextClient`` and ``AsyncContextClient`` (HTTP) and the exceptions come
from the standalone package ``customer_context`` (``clients/python``);
``InProcessContextClient`` and ``AsyncInProcessContextClient`` have the same
methods without HTTP; ``ContextAwareAgentMixin`` is for agent classes.
"""

from customer_context import (
    AsyncContextClient,
    ContextAPIError,
    ContextClient,
    CustomerNotFoundError,
    inject_context_into_prompt,
)

from enrichment.agents.client import ContextAwareAgentMixin
from enrichment.agents.local import AsyncInProcessContextClient, InProcessContextClient

__all__ = [
    "AsyncContextClient",
    "AsyncInProcessContextClient",
    "ContextAPIError",
    "ContextAwareAgentMixin",
    "ContextClient",
    "CustomerNotFoundError",
    "InProcessContextClient",
    "inject_context_into_prompt",
]
