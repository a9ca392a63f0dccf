"""Who is calling the MCP tools: the token scope and name of this call, set by
the transport (the HTTP view from the API token, the stdio command from its
``--scope``) and read by every tool."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from enrichment.context.scopes import TokenScope


@dataclass(frozen=True, slots=True)
class Caller:
    scope: str
    name: str


CALLER: ContextVar[Caller] = ContextVar("mcp_caller", default=Caller(scope=TokenScope.CUSTOMER_FACING, name=""))  # noqa: B039 - frozen


def current_caller() -> Caller:
    """The caller of this call; the most restricted audience when no transport said otherwise."""
    return CALLER.get()
