"""The project's own middleware: static files (Swagger UI's assets, the
admin's) served by WhiteNoise, so ``/api/docs/`` works under gunicorn without
DEBUG and without a CDN; the one request body limit; and the one reconnect
policy of every request that uses the database."""

from __future__ import annotations

import contextlib
from pathlib import Path

import structlog
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.request import RawPostDataException
from whitenoise.middleware import WhiteNoiseMiddleware

from config.db import cannot_connect, connection_discard, connection_failed
from config.replicas import replica_blame
from enrichment.api.errors import error_body, is_api_path

logger = structlog.get_logger(__name__)


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise, quiet when ``collectstatic`` has not been run: files then come
    straight from the apps (``WHITENOISE_USE_FINDERS``, on by default)."""

    def __init__(self, get_response=None, settings=settings):
        root = settings.STATIC_ROOT
        if root and not Path(root).is_dir():
            settings = _Without(settings, "STATIC_ROOT")
        super().__init__(get_response, settings=settings)


class _Without:
    """A view of the settings with one of them unset."""

    def __init__(self, wrapped, name: str):
        self._wrapped = wrapped
        self._name = name

    def __getattr__(self, name: str):
        if name == self._name:
            return None
        return getattr(self._wrapped, name)


# --- request body limit ------------------------------------------------------------------------


class RequestBodyLimitMiddleware:
    """One body limit for every path, ``API_MAX_BODY_BYTES`` (Django's
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` follows it): a declared body over it is
    413 before anything reads it (the JSON error shape on API paths), a
    ``Content-Length`` that is not a number is 400. The JSON parser enforces
    the same limit on what it actually reads."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        raw = request.META.get("CONTENT_LENGTH") or "0"
        limit = settings.API_MAX_BODY_BYTES
        if not (raw.isascii() and raw.isdigit()):
            return _error(request, 400, "invalid_request", "The Content-Length header is not a number.")
        if int(raw) > limit:
            return _error(request, 413, "request_too_large", f"The request body is larger than {limit} bytes.")
        return self.get_response(request)


# --- a database connection lost under a request ---------------------------------------------


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class DatabaseRetryMiddleware:
    """The one reconnect policy of every request, whatever path hits the
    database (token lookup, lookups, search, changes, ingestion, the admin).

    When the view fails because its database connection failed
    (:func:`config.db.connection_failed`: killed backend, restart, failover),
    the connection is discarded, the pool's idle connections are checked
    (:func:`config.db.connection_discard`) and the view runs once more on a
    fresh connection. Only idempotent requests are retried: safe methods, and
    views whose class says ``idempotent = True`` (every API view: reads, the
    batch, invalidation, and ingestion, idempotent by ``event_id``); the body
    is kept so the retry reads it again. When the retry fails the same way, or
    no connection can be had at all, or the request is not idempotent, the
    answer is 503 ``database_unavailable`` with ``Retry-After`` (the JSON
    error shape on API paths), never a 500; so is any other operational error
    of the database (a statement or lock timeout, a deadlock), not retried."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        request._db_view = (view_func, view_args, view_kwargs)
        if request.method not in SAFE_METHODS and _idempotent(view_func):
            with contextlib.suppress(RawPostDataException):
                request.body  # noqa: B018 - read now, kept in memory: a retry parses it again
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # A read replica that went away (config/replicas.py): marked down, so the retry reads from the primary.
        replica = isinstance(exception, OperationalError | InterfaceError) and replica_blame()
        if not replica and not connection_failed(exception):
            if isinstance(exception, OperationalError):  # cancelled, timed out, deadlocked: the database's state, not a bug
                logger.warning("database_operational_error", path=request.path, error=str(exception)[:200])
                return _unavailable(request)
            return None
        view = getattr(request, "_db_view", None)
        retry = view is not None and (replica or not cannot_connect(exception)) and not connection.in_atomic_block
        retry = retry and (request.method in SAFE_METHODS or _idempotent(view[0]))
        logger.warning("database_connection_failed", path=request.path, error=type(exception).__name__, retry=retry)
        connection_discard()
        if not retry:
            return _unavailable(request)
        view_func, view_args, view_kwargs = view
        try:
            response = view_func(request, *view_args, **view_kwargs)
            render = getattr(response, "render", None)
            return render() if callable(render) else response
        except Exception as again:
            if not connection_failed(again):
                raise
            logger.error("database_unavailable", path=request.path, error=type(again).__name__)
            connection_discard()
            return _unavailable(request)


def _idempotent(view_func) -> bool:
    view_class = getattr(view_func, "view_class", None) or getattr(view_func, "cls", None)
    return bool(getattr(view_class, "idempotent", False) or getattr(view_func, "idempotent", False))


def _unavailable(request: HttpRequest) -> HttpResponse:
    response = _error(request, 503, "database_unavailable", "The database is temporarily unreachable; retry shortly.")
    response["Retry-After"] = "5"
    return response


def _error(request: HttpRequest, status: int, code: str, message: str) -> HttpResponse:
    if is_api_path(request.path):
        return JsonResponse(error_body(code, message), status=status)
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
