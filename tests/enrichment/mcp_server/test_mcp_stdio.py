"""The MCP server over stdio (``manage.py mcp_server``), as a desktop
assistant starts it: a subprocess speaking JSON-RPC on stdin/stdout, driven
by the official SDK's client."""

from __future__ import annotations

import sys

import anyio
import pytest
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters

from tests.ops.helpers import ROOT, service_env

pytestmark = pytest.mark.django_db(transaction=True)


def session(scope: str, action):
    params = StdioServerParameters(
        command=sys.executable, args=["manage.py", "mcp_server", "--scope", scope], env=service_env(LOG_JSON="true"), cwd=str(ROOT)
    )

    async def main():
        with anyio.fail_after(60):
            async with Client(params) as client:
                return await action(client)

    return anyio.run(main)


def test_stdio_full_scope(demo):
    async def action(client):
        tools = {tool.name for tool in (await client.list_tools()).tools}
        result = await client.call_tool("get_context", {"email": "jane@acme.com"})
        return tools, result

    tools, result = session("full", action)
    assert tools == {"get_context", "search_customers", "get_changes", "record_outcome"}
    prompt = result.structured_content["prompt"]
    assert "- Jane Doe (jane@acme.com), Head of Operations" in prompt.splitlines()
    assert "Health Score: 85/100 (Good)" in prompt


def test_stdio_customer_facing_scope(demo):
    async def action(client):
        return await client.call_tool("get_context", {"customer_id": "customer_at_risk"})

    prompt = session("customer_facing", action).structured_content["prompt"]
    assert "Audience: customer-facing" in prompt and "Health Score" not in prompt and "Churn" not in prompt
