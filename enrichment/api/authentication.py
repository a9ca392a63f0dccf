"""API token authentication.

Accepts ``Authorization: Bearer cce_<prefix>_<secret>`` and the DRF-style
``Authorization: Token cce_<prefix>_<secret>``. A request without the header
gets 401 ``not_authenticated``; a malformed, unknown, wrong or revoked token
gets 401 ``authentication_failed``. ``request.auth`` is the
:class:`~enrichment.api.tokens.VerifiedToken`, ``request.user`` a :class:`TokenUser`.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from enrichment.api.tokens import InvalidToken, VerifiedToken, api_token_verify

KEYWORDS = ("bearer", "token")
MAX_HEADER_LENGTH = 512


class TokenUser:
    """The caller of an API request: an agent holding a token, not a Django user."""

    is_authenticated = True
    is_active = True
    is_anonymous = False
    is_staff = False
    is_superuser = False

    def __init__(self, token: VerifiedToken):
        self.token = token
        self.pk = self.id = None
        self.username = f"token:{token.prefix}"

    @property
    def scope(self) -> str:
        return self.token.scope

    def __str__(self) -> str:
        return f"{self.token.name} ({self.token.prefix}, {self.token.scope})"


class ApiTokenAuthentication(authentication.BaseAuthentication):
    www_authenticate_realm = "api"

    def authenticate(self, request) -> tuple[TokenUser, VerifiedToken] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        if len(header) > MAX_HEADER_LENGTH:
            raise exceptions.AuthenticationFailed("Invalid Authorization header: too long.")
        parts = header.split()
        if len(parts) != 2 or parts[0].lower() not in KEYWORDS:
            raise exceptions.AuthenticationFailed("Invalid Authorization header: expected 'Bearer <token>' or 'Token <token>'.")
        try:
            token = api_token_verify(raw_token=parts[1])
        except InvalidToken as exc:
            raise exceptions.AuthenticationFailed("Invalid or revoked API token.") from exc
        return TokenUser(token), token

    def authenticate_header(self, request) -> str:
        return f'Bearer realm="{self.www_authenticate_realm}"'


class ApiTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents the token as an HTTP bearer scheme in the OpenAPI schema."""

    target_class = "enrichment.api.authentication.ApiTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "cce_<prefix>_<secret>",
            "description": (
                "An API token from `python manage.py create_api_token NAME [--scope full|customer_facing]`. "
                "Send `Authorization: Bearer <token>` (or `Authorization: Token <token>`)."
            ),
        }
