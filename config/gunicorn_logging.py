"""Gunicorn's logs through structlog (``logger_class`` in ``gunicorn.conf.py``).

Gunicorn's own lines (booting, worker timeouts) go to the root logger, so they
are rendered like the application's (JSON in production); ``configure_master_logging``
sets that up in the master, which never loads Django.

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

from config.logging import configure_logging

PROBE_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

access_logger = structlog.get_logger("http.access")


def configure_master_logging() -> None:
    """The same logging as the Django settings will configure in the workers:
    JSON when ``LOG_JSON`` says so, or by default under production settings."""
    production = os.environ.get("DJANGO_SETTINGS_MODULE", "").endswith(".production")
    raw = os.environ.get("LOG_JSON", "").strip().lower()
    json_lines = raw in ("1", "true", "yes", "on") if raw else production
    configure_logging(json_lines=json_lines, level=os.environ.get("LOG_LEVEL", "INFO") or "INFO")


class StructlogGunicornLogger(Logger):
    def setup(self, cfg) -> None:
        super().setup(cfg)
        self.error_log.handlers.clear()  # to the root logger's structlog handler instead
        self.error_log.propagate = True

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
