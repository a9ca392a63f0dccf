"""The context service as a Model Context Protocol server (official ``mcp``
SDK): the same lookups, scopes and error codes as the REST API, as tools and
resources an LLM agent discovers by itself.

- :mod:`~enrichment.mcp_server.tools`: what each tool does (sync, Django);
- :mod:`~enrichment.mcp_server.server`: the ``MCPServer`` with tool
  descriptions written for a model, and the resources;
- :mod:`~enrichment.mcp_server.http`: streamable HTTP at ``/mcp`` in the web
  process, behind the API's tokens, throttle and error shape;
- ``manage.py mcp_server``: stdio, for desktop and IDE assistants.
"""
