"""Who may call what.

Every endpoint needs a valid token (:class:`HasApiToken`). Endpoints that list
all customers or write data also need the ``full`` scope (:class:`HasFullScope`):
a customer-facing bot reads one customer's (redacted) context at a time.
"""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from enrichment.api.tokens import VerifiedToken


def request_scope(request) -> str | None:
    token = getattr(request, "auth", None)
    return token.scope if isinstance(token, VerifiedToken) else None


class HasApiToken(BasePermission):
    message = "Authentication credentials were not provided."

    def has_permission(self, request, view) -> bool:
        return isinstance(getattr(request, "auth", None), VerifiedToken)


class HasFullScope(HasApiToken):
    message = "This endpoint needs a token with the 'full' scope."

    def has_permission(self, request, view) -> bool:
        return super().has_permission(request, view) and request.auth.is_full
