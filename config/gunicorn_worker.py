"""gunicorn's sync worker, answering the errors gunicorn raises itself (before
Django sees the request) in the API's JSON error shape instead of HTML:
414 for a request line over ``limit_request_line``, 431 for a header over
``limit_request_field_size`` or more than ``limit_request_fields`` headers,
400 for a malformed request. ``gunicorn.conf.py`` selects it."""

from __future__ import annotations

import json
from http import HTTPStatus

from gunicorn import util
from gunicorn.workers.sync import SyncWorker

_CODES = {400: "invalid_request", 403: "permission_denied", 414: "uri_too_long", 417: "invalid_request", 431: "request_headers_too_large"}
_MESSAGES = {
    414: "The request line (method, path and query string) is too long.",
    431: "A request header is too large, or there are too many headers.",
}


def json_error(status: int, reason: str, message: str) -> bytes:
    """A complete HTTP/1.1 error response with the ``{"error": ...}`` body."""
    code = _CODES.get(status, "server_error" if status >= 500 else "invalid_request")
    text = _MESSAGES.get(status) or (message if status < 500 else "") or HTTPStatus(status).phrase
    body = json.dumps({"error": {"code": code, "message": text, "details": None}}).encode()
    head = f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode("latin-1") + body


def _write_json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    util.write_nonblock(sock, json_error(int(status_int), reason, mesg))


class JsonErrorSyncWorker(SyncWorker):
    """:class:`SyncWorker` whose own error pages are JSON (see the module docstring)."""

    def handle_error(self, req, client, addr, exc):
        html_writer = util.write_error
        util.write_error = _write_json_error  # one request at a time per sync worker: a scoped swap
        try:
            super().handle_error(req, client, addr, exc)
        finally:
            util.write_error = html_writer
