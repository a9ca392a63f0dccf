"""The API's errors as exceptions.

Every error answer of the API has the body
``{"error": {"code": ..., "message": ..., "details": ...}}``; the client raises
the subclass of :class:`ContextAPIError` that matches its status code.
"""

from __future__ import annotations

from typing import Any


class ContextAPIError(Exception):
    """The API answered with an error, or could not be reached.

    ``status_code`` (``None`` when no answer came back), ``code`` (stable, for
    programs: ``customer_not_found``, ``throttled``...), ``message`` (for
    people), ``details`` (``None`` or an object) and ``retry_after`` (seconds,
    from the ``Retry-After`` header, when the server sent one).
    """

    def __init__(
        self,
        status_code: int | None,
        code: str,
        message: str,
        details: Any = None,
        retry_after: float | None = None,
    ) -> None:
        self.status_code = status_code
        self.code = code
        self.message = message
        self.details = details
        self.retry_after = retry_after
        super().__init__(f"{status_code if status_code is not None else '-'} {code}: {message}")


class ValidationError(ContextAPIError):
    """400, 413 or 415: a bad parameter, customer id or body."""


class AuthenticationError(ContextAPIError):
    """401: no token, or a malformed, unknown or revoked one."""


class PermissionDeniedError(ContextAPIError):
    """403: the token's scope does not allow this operation."""


class NotFoundError(ContextAPIError):
    """404: no such customer, contact, domain, ticket or URL."""


class CustomerNotFoundError(NotFoundError):
    """404 ``customer_not_found``: no customer matches the id, email, domain or ticket."""


class RateLimitedError(ContextAPIError):
    """429: over the token's rate; ``retry_after`` says how long to wait."""


class ServiceUnavailableError(ContextAPIError):
    """502, 503 or 504: the service or its database is unavailable for now."""


class APIConnectionError(ContextAPIError):
    """No answer: the server could not be reached or timed out (``status_code`` None)."""


_BY_STATUS: dict[int, type[ContextAPIError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    413: ValidationError,
    415: ValidationError,
    422: ValidationError,
    429: RateLimitedError,
    502: ServiceUnavailableError,
    503: ServiceUnavailableError,
    504: ServiceUnavailableError,
}


def error_for(status_code: int, code: str, message: str, details: Any = None, retry_after: float | None = None) -> ContextAPIError:
    """The exception for an error answer."""
    if code == "customer_not_found":
        cls: type[ContextAPIError] = CustomerNotFoundError
    else:
        cls = _BY_STATUS.get(status_code, ContextAPIError)
    return cls(status_code, code, message, details, retry_after)
