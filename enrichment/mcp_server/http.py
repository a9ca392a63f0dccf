"""Streamable HTTP at ``/mcp``, in the web process (gunicorn or runserver),
behind the REST API's own plumbing: the same tokens, scopes, per-token
throttle and JSON error shape (401, 413, 429 ...) as ``/api/v1/``.

The view is a DRF view, so authentication and throttling happen before any
MCP code runs. It then hands the request to the SDK's streamable HTTP
transport in **stateless, JSON-response** mode: each POST carries one
JSON-RPC message and gets its answer in the response body, with no session
to keep between requests, so it works with any number of sync workers and
needs no sticky sessions. The transport is an ASGI app; it runs here for the
length of the request (``async_to_sync``), and the tools call back into Django
on this request's thread (``sync_to_async(thread_sensitive=True)``).
"""

from __future__ import annotations

from typing import Any

import anyio
from asgiref.sync import async_to_sync
from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings

from enrichment.api.base import ApiView
from enrichment.api.errors import RequestTooLarge
from enrichment.mcp_server.audience import CALLER, Caller
from enrichment.mcp_server.server import mcp_server

# Headers the transport reads; the rest of the request stays with Django.
_FORWARDED = ("content-type", "accept", "mcp-protocol-version", "mcp-session-id", "last-event-id", "origin")


class McpView(ApiView):
    """``/mcp``: the body is read raw and judged by the MCP transport."""

    @extend_schema(exclude=True)
    def post(self, request) -> HttpResponse:
        self.query()  # no query parameters
        return self._serve(request)

    @extend_schema(exclude=True)
    def get(self, request) -> HttpResponse:
        return self._serve(request)  # the transport answers 405: no server-initiated stream without sessions

    @extend_schema(exclude=True)
    def delete(self, request) -> HttpResponse:
        return self._serve(request)

    def _serve(self, request) -> HttpResponse:
        body = _body(request._request)
        token = request.auth
        marker = CALLER.set(Caller(scope=token.scope, name=token.name))
        try:
            status, headers, content = async_to_sync(_handle)(request.method, _headers(request._request.META), body)
        finally:
            CALLER.reset(marker)
        response = HttpResponse(content, status=status)
        for name, value in headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                response[name] = value
        return response


def _body(django_request) -> bytes:
    limit = int(getattr(settings, "API_MAX_BODY_BYTES", 2_621_440))
    try:
        declared = int(django_request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
    body = django_request.read(limit + 1)
    if len(body) > limit:
        raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
    return body


def _headers(meta: dict[str, Any]) -> list[tuple[bytes, bytes]]:
    found = {"content-type": meta.get("CONTENT_TYPE", "")}
    for name in _FORWARDED[1:]:
        value = meta.get("HTTP_" + name.upper().replace("-", "_"))
        if value is not None:
            found[name] = value
    return [(name.encode("latin-1"), value.encode("latin-1", "replace")) for name, value in found.items() if value]


async def _handle(method: str, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    """One request through the SDK's transport; returns status, headers, body."""
    manager = StreamableHTTPSessionManager(
        app=mcp_server()._lowlevel_server,
        stateless=True,
        json_response=True,
        # Host and Origin are Django's job here (ALLOWED_HOSTS; no cookies, a bearer token only).
        security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        max_request_body_size=max(1, len(body)) + 1,
    )
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": "/mcp", "raw_path": b"/mcp", "root_path": "", "query_string": b"", "headers": headers,
        "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 0),
    }  # fmt: skip
    delivered = False
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await anyio.sleep_forever()  # the client stays connected until the answer is written
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async with manager.run():
        await manager.handle_request(scope, receive, send)
    start = next((m for m in sent if m["type"] == "http.response.start"), {"status": 500, "headers": []})
    out_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in start.get("headers", [])]
    return start["status"], out_headers, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
