"""Gunicorn's access log through structlog (``logger_class`` in ``gunicorn.conf.py``).

One line per request, rendered like every application line (JSON in
production), carrying the ``request_id`` that :class:`config.middleware.RequestIdMiddleware`
put on the response, so an access line joins the application's and the Celery
tasks' lines of the same request. Probes (``/healthz``, ``/readyz``,
``/metrics``) that succeed are logged at DEBUG: an orchestrator polling every
few seconds would otherwise fill the log.
"""

from __future__ import annotations

import os

import structlog
from gunicorn.glogging import Logger

PROBE_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

access_logger = structlog.get_logger("http.access")


class StructlogGunicornLogger(Logger):
    def access(self, resp, req, environ, request_time) -> None:
        if not self.access_log_enabled:
            return
        try:
            headers = {name.lower(): value for name, value in resp.headers}
            status = resp.status
            code = int(str(status).split(None, 1)[0]) if status else 0
            path = environ.get("PATH_INFO", "")
            fields = {
                "request_id": headers.get("x-request-id"),
                "method": environ.get("REQUEST_METHOD"),
                "path": path,
                "query": environ.get("QUERY_STRING") or None,
                "status": code,
                "bytes": getattr(resp, "sent", None),
                "duration_ms": round(request_time.total_seconds() * 1000, 2),
                "remote_addr": environ.get("REMOTE_ADDR"),
                "user_agent": environ.get("HTTP_USER_AGENT"),
                "pid": os.getpid(),
            }
            level = "debug" if path in PROBE_PATHS and code < 400 else "info"
            getattr(access_logger, level)("http_request", **fields)
        except Exception:  # noqa: BLE001 - an access line never breaks a response
            self.exception("access log failed")
