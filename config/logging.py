"""structlog set-up: readable in a terminal, JSON lines in production.

Every line carries the request id bound by :class:`config.middleware.RequestIdMiddleware`
(via structlog's contextvars), and the standard library's loggers (Django,
Celery) go through the same processors so the output is uniform.
"""

from __future__ import annotations

import logging
import logging.config

import structlog

_SECRET_MARKERS = ("key", "secret", "token", "password", "authorization")


def _redact_secrets(_logger, _name, event_dict):
    for field in list(event_dict):
        if any(marker in field.lower() for marker in _SECRET_MARKERS) and field != "event":
            event_dict[field] = "[redacted]"
    return event_dict


class QuietTaskFilter(logging.Filter):
    """Drops Celery's INFO lines about the routine tasks named in ``names``
    ("received", "succeeded", beat's "Sending due task"): a task that runs
    every 30 s would otherwise write thousands of lines a day saying nothing.
    Warnings and errors about them pass."""

    def __init__(self, names: list[str] | tuple[str, ...] = ()):
        super().__init__()
        self.names = frozenset(names)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or not self.names:
            return True
        args = record.args
        if isinstance(args, dict):
            return args.get("name") not in self.names
        if isinstance(args, tuple):
            return not any(isinstance(arg, str) and arg in self.names for arg in args)
        return True


_CELERY_CHATTY = ("celery.app.trace", "celery.worker.strategy", "celery.beat")


def configure_logging(*, json_lines: bool, level: str = "INFO", quiet_tasks: list[str] | tuple[str, ...] = ()) -> None:
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redact_secrets,
    ]
    renderer = structlog.processors.JSONRenderer() if json_lines else structlog.dev.ConsoleRenderer(colors=False)
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {
                "structlog": {
                    "()": structlog.stdlib.ProcessorFormatter,
                    "processors": [
                        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                        structlog.processors.format_exc_info,
                        renderer,
                    ],
                    "foreign_pre_chain": shared,
                }
            },
            "filters": {"quiet_tasks": {"()": QuietTaskFilter, "names": list(quiet_tasks)}},
            "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structlog"}},
            "root": {"handlers": ["console"], "level": level.upper()},
            "loggers": {
                "django.db.backends": {"level": "WARNING"},
                "django.server": {"level": "INFO"},
                # The MCP SDK logs every stateless request's transport start and stop at INFO (enrichment/mcp_server/http.py).
                "mcp": {"level": "WARNING"},
                **{name: {"filters": ["quiet_tasks"]} for name in _CELERY_CHATTY},
            },
        }
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
