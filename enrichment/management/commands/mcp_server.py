"""python manage.py mcp_server [--scope full|customer_facing] [--name NAME]

The MCP server over stdio, for desktop and IDE assistants that start it as a
subprocess (see README, "MCP"). Over HTTP the same server is at ``/mcp``."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from enrichment.context.scopes import TokenScope
from enrichment.mcp_server.audience import CALLER, Caller
from enrichment.mcp_server.server import mcp_server


class Command(BaseCommand):
    help = "Serve the customer context as an MCP server over stdio (JSON-RPC on stdin/stdout)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scope",
            choices=list(TokenScope.values),
            default=TokenScope.FULL,
            help="What the assistant may see: full, or customer_facing (the allowlisted customer view).",
        )
        parser.add_argument("--name", default="stdio", help="Who records outcomes, in the outcome's recorded_by.")

    def handle(self, *args, scope: str, name: str, **options):
        CALLER.set(Caller(scope=scope, name=name))
        mcp_server().run(transport="stdio")  # stdout carries the protocol: nothing else may print there
