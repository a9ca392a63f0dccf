"""One error shape for the whole API.

Every error response, whoever raised it (DRF, our views, the context service,
Django's own 404/500 pages for ``/api/`` paths), has the body::

    {"error": {"code": "customer_not_found", "message": "No customer matches ...", "details": null}}

``code`` is stable and meant for programs; ``message`` is for people;
``details`` is ``null`` or an object (for validation errors: field -> messages).

============================  ======  ===================================================
code                          status  when
============================  ======  ===================================================
invalid_parameter             400     a query parameter has a bad value
unknown_parameter             400     a query parameter the endpoint does not know
invalid_customer_id           400     a customer id that cannot be valid (charset, length)
invalid_request               400     a request body that does not validate
parse_error                   400     a body that is not JSON
invalid_unicode               400     a string (body, query, path) that is not valid Unicode, e.g. a lone surrogate
batch_too_large               400     more than 100 customer ids / 1,000 events
unknown_customers             400     events for customer ids that do not exist
not_authenticated             401     no ``Authorization`` header
authentication_failed         401     a malformed, unknown or revoked token
permission_denied             403     the token's scope does not allow this endpoint
customer_not_found            404     no customer has that id, email or domain (or no such ticket)
context_not_found             404     an outcome names a ``context_id`` this service did not sign
not_found                     404     no such URL
method_not_allowed            405
request_too_large             413     a body over ``API_MAX_BODY_BYTES``
unsupported_media_type        415     a body that is not ``application/json``
throttled                     429     over ``API_THROTTLE_RATE``; see ``Retry-After``
uri_too_long                  414     a request line over gunicorn's limit (``config/gunicorn_worker.py``)
request_headers_too_large     431     a header line or too many headers, over gunicorn's limits
context_unavailable           503     the customer database cannot be reached
database_unavailable          503     the database cannot be reached, or cancelled the query (timeout, deadlock)
server_error                  500     a bug; the request id is in ``X-Request-ID``
============================  ======  ===================================================
"""

from __future__ import annotations

import json
from typing import Any

import structlog
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from customers.services import EventsBeforeRetention, UnknownCustomers
from enrichment.context.exceptions import (
    ContextUnavailable,
    CustomerNotFound,
    ExperimentNotFound,
    InvalidLookup,
    ScopeForbidden,
    UnknownContextId,
)
from enrichment.history.outcomes import InvalidOutcome

logger = structlog.get_logger(__name__)

API_PATH_PREFIXES = ("/api/", "/healthz", "/mcp")


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The error shape; any string in it that is not valid Unicode (a lone
    surrogate echoed from the input) is repaired, so rendering never fails."""
    return {"error": {"code": code, "message": valid_unicode(message), "details": valid_unicode(details)}}


def invalid_unicode_path(value: Any) -> str | None:
    """Where the first string of a JSON value (keys included) that cannot be
    encoded as UTF-8 is, as ``events.1.kind`` (``""``: the value itself), or
    ``None`` when every string is valid."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if not item.isascii() and not _encodable(item):
                return path
        elif isinstance(item, dict):
            for key, child in reversed(item.items()):
                where = f"{path}.{key}".lstrip(".") if _encodable(str(key)) else f"{path}.<key>".lstrip(".")
                if where.endswith("<key>"):
                    return where
                stack.append((where, child))
        elif isinstance(item, list | tuple):
            stack.extend((f"{path}.{i}".lstrip("."), child) for i, child in reversed(list(enumerate(item))))
    return None


def has_invalid_unicode(value: Any) -> bool:
    """Whether any string in a JSON value (keys included) cannot be encoded as UTF-8."""
    return invalid_unicode_path(value) is not None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def valid_unicode(value: Any) -> Any:
    """``value`` with every lone surrogate in its strings replaced by U+FFFD."""
    if isinstance(value, str):
        return value if _encodable(value) else value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, dict):
        return {valid_unicode(key): valid_unicode(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [valid_unicode(item) for item in value]
    return value


class ApiError(exceptions.APIException):
    """An API error with a stable code, a message and optional details."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid_request"
    default_detail = "The request is not valid."

    def __init__(self, message: str | None = None, *, code: str | None = None, details: Any = None, status_code: int | None = None):
        super().__init__(detail=message or self.default_detail, code=code or self.default_code)
        self.error_code = code or self.default_code
        self.message = message or str(self.default_detail)
        self.details = details
        if status_code is not None:
            self.status_code = status_code


class InvalidUnicode(ApiError):
    """A string that is not valid Unicode (a lone surrogate such as ``"\\ud800"``
    is valid JSON but no valid text): rejected before any use or echo."""

    default_code = "invalid_unicode"
    default_detail = "The request contains a string that is not valid Unicode (e.g. a lone surrogate such as \\ud800)."


class InvalidParameter(ApiError):
    default_code = "invalid_parameter"
    default_detail = "A query parameter is not valid."


class BatchTooLarge(ApiError):
    default_code = "batch_too_large"
    default_detail = "The batch is too large."


class RequestTooLarge(ApiError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"
    default_detail = "The request body is too large."


# Codes a serializer may raise on a field that become the error's top-level code.
PROMOTED_CODES = ("batch_too_large", "invalid_customer_id")

_DRF_CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ParseError: "parse_error",
}


def _leaf_codes(codes: Any) -> list[str]:
    if isinstance(codes, dict):
        return [c for value in codes.values() for c in _leaf_codes(value)]
    if isinstance(codes, list):
        return [c for value in codes for c in _leaf_codes(value)]
    return [str(codes)]


def _first_message(detail: Any, path: str = "") -> str:
    if isinstance(detail, dict):
        for key, value in detail.items():
            where = key if key != "non_field_errors" else ""
            return _first_message(value, f"{path}.{where}".strip(".") if where else path)
    if isinstance(detail, list) and detail:
        return _first_message(detail[0], path)
    text = str(detail)
    return f"{path}: {text}" if path else text


def _validation_error(exc: exceptions.ValidationError) -> tuple[str, str, Any]:
    detail = exc.detail
    codes = _leaf_codes(exc.get_codes())
    code = next((c for c in PROMOTED_CODES if c in codes), "invalid_request")
    details = detail if isinstance(detail, dict) else {"non_field_errors": detail}
    return code, _first_message(detail), json.loads(json.dumps(details, default=str))


def validation_error_parts(exc: exceptions.ValidationError) -> tuple[str, str, Any]:
    """A serializer's ValidationError as the API answers it: (code, message, details)."""
    return _validation_error(exc)


def translate(exc: Exception) -> exceptions.APIException | None:
    """Map the domain's exceptions onto API errors."""
    if isinstance(exc, CustomerNotFound):
        return ApiError(str(exc), code="customer_not_found", status_code=404, details={"lookup": exc.lookup})
    if isinstance(exc, UnknownContextId):
        return ApiError(str(exc), code="context_not_found", status_code=404)
    if isinstance(exc, ExperimentNotFound):
        return ApiError(str(exc), code="not_found", status_code=404)
    if isinstance(exc, InvalidOutcome):
        return InvalidParameter(str(exc))
    if isinstance(exc, InvalidLookup):
        return InvalidParameter(str(exc))
    if isinstance(exc, ScopeForbidden):
        return ApiError(str(exc), code="permission_denied", status_code=403)
    if isinstance(exc, ContextUnavailable):
        return ApiError(
            "The customer context is temporarily unavailable; retry shortly.",
            code="context_unavailable",
            status_code=503,
        )
    if isinstance(exc, EventsBeforeRetention):
        return InvalidParameter(f"{exc}. Nothing was stored.")
    if isinstance(exc, UnknownCustomers):
        return ApiError(
            f"Unknown customer ids: {', '.join(exc.customer_ids[:20])}{' ...' if len(exc.customer_ids) > 20 else ''}. Nothing was stored.",
            code="unknown_customers",
            details={"customer_ids": exc.customer_ids},
        )
    return None


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF ``EXCEPTION_HANDLER``: every error as ``{"error": {code, message, details}}``."""
    translated = translate(exc)
    if translated is not None:
        exc = translated
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None  # a bug: Django logs it and the middleware renders a JSON 500

    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    wait = getattr(exc, "wait", None)
    if isinstance(exc, ApiError):
        code, message, details = exc.error_code, exc.message, exc.details
        if exc.status_code == 503:
            headers["Retry-After"] = "5"
    elif isinstance(exc, exceptions.ValidationError):
        code, message, details = _validation_error(exc)
    else:
        code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
        message, details = str(exc.detail), None
        if isinstance(exc, exceptions.Throttled):
            retry = max(1, int(wait or 1))
            headers["Retry-After"] = str(retry)
            message = f"Too many requests: retry in {retry} second{'s' if retry != 1 else ''}."
            details = {"retry_after": retry}
    set_rollback()
    return Response(error_body(code, message, details), status=exc.status_code, headers=headers)


# --- Django-level errors on API paths ------------------------------------------------------

_STATUS_CODES = {
    400: ("invalid_request", "The request is not valid."),
    403: ("permission_denied", "You do not have permission to perform this action."),
    404: ("not_found", "No such URL."),
    405: ("method_not_allowed", "Method not allowed."),
    413: ("request_too_large", "The request body is too large."),
    500: ("server_error", "Internal server error; quote the X-Request-ID header when reporting it."),
    503: ("database_unavailable", "The database is temporarily unreachable; retry shortly."),
}


def is_api_path(path: str) -> bool:
    return path.startswith(API_PATH_PREFIXES)


class ApiJsonErrorMiddleware:
    """Outside DRF's views (no URL matched, a crash, Django's own 400/413),
    Django answers with HTML pages. For API paths, swap any non-JSON error
    response for the JSON error shape, in DEBUG and production alike."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code < 400 or not is_api_path(request.path):
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        status_code = response.status_code
        code, message = _STATUS_CODES.get(
            status_code, ("server_error", "Internal server error.") if status_code >= 500 else ("error", "Request failed.")
        )
        json_response = JsonResponse(error_body(code, message), status=status_code)
        for header in ("Allow", "Retry-After", "WWW-Authenticate", "X-Request-ID"):
            if header in response:
                json_response[header] = response[header]
        return json_response
