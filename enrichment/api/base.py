"""The plumbing every API view shares: token auth, per-token throttling, JSON
in and out (bodies capped at ``API_MAX_BODY_BYTES``), the error shape, strict
query strings, and the OpenAPI pieces the views reuse."""

from __future__ import annotations

import functools
import io
from typing import Any

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework.exceptions import ParseError
from rest_framework.negotiation import BaseContentNegotiation, DefaultContentNegotiation
from rest_framework.parsers import JSONParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from enrichment.api import serializers as s
from enrichment.api.authentication import ApiTokenAuthentication
from enrichment.api.errors import ApiError, InvalidParameter, InvalidUnicode, RequestTooLarge, api_exception_handler, invalid_unicode_path
from enrichment.api.openapi import error_example
from enrichment.api.permissions import HasApiToken, request_scope
from enrichment.api.throttling import TokenRateThrottle
from enrichment.context.exceptions import InvalidLookup
from enrichment.engine.lookups import validate_customer_id


class PlainTextRenderer(BaseRenderer):
    media_type = "text/plain"
    format = "txt"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return data.encode(self.charset) if isinstance(data, str) else str(data).encode(self.charset)


class LimitedJSONParser(JSONParser):
    """JSON bodies up to ``API_MAX_BODY_BYTES``; larger ones get 413."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = int(getattr(settings, "API_MAX_BODY_BYTES", 2_621_440))
        request = (parser_context or {}).get("request")
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        except ValueError:
            declared = 0
        too_large = f"The request body is larger than {limit} bytes."
        if declared > limit:
            raise RequestTooLarge(too_large)
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestTooLarge(too_large)
        try:
            data = super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError as exc:  # absurdly deep nesting: not a server error
            raise ParseError("JSON parse error - nested too deeply") from exc
        where = invalid_unicode_path(data)  # "\ud800" is valid JSON, but no valid text
        if where is not None:
            message = f"The body has a string that is not valid Unicode (a lone surrogate) at {where or 'its top'}."
            raise InvalidUnicode(message, details={"path": where})
        return data


class FirstRendererNegotiation(BaseContentNegotiation):
    """Each endpoint has one representation: answer with it whatever ``Accept``
    says, rather than 406."""

    def select_parser(self, request, parsers):
        return DefaultContentNegotiation().select_parser(request, parsers)

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def errors_schema(*codes: int) -> dict[int | tuple[int, str], OpenApiResponse]:
    """The documented error answers, each with an example."""
    descriptions = {
        400: "An invalid or unknown query parameter, a malformed customer id, or an invalid body (`error.code` says which).",
        401: "No token, or a malformed, unknown or revoked token.",
        403: "The token's scope does not allow this operation.",
        404: "No customer matches (unknown id, contact email, domain or ticket).",
        413: "The request body is too large.",
        415: "The body is not `application/json`.",
        429: "Over the token's rate limit: wait the number of seconds in the `Retry-After` header.",
        503: "The customer data cannot be reached for now: retry after the `Retry-After` header's seconds.",
    }
    return {
        (code, "application/json"): OpenApiResponse(s.ErrorSerializer, description=descriptions[code], examples=[error_example(code)])
        for code in codes
    }


CUSTOMER_ID_PARAM = OpenApiParameter(
    "customer_id",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The customer's external id: 1-64 of letters, digits, '_', '.', ':' and '-'.",
    examples=[OpenApiExample("Acme Corp", value="customer_123")],
)

TICKET_ID_PARAM = OpenApiParameter(
    "ticket_id",
    OpenApiTypes.INT,
    OpenApiParameter.PATH,
    description="The ticket's id (ASCII digits), as the helpdesk and the admin show it.",
)


class ApiView(APIView):
    """Base of the API's views: token auth, per-token throttling, JSON in and
    out, the error shape, and strict query strings."""

    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [HasApiToken]
    throttle_classes = [TokenRateThrottle]
    renderer_classes = [JSONRenderer]
    parser_classes = [LimitedJSONParser]
    content_negotiation_class = FirstRendererNegotiation
    query_serializer_class: type[s.serializers.Serializer] | None = None
    # Every API request may run twice on a lost database connection
    # (enrichment.api.middleware.DatabaseRetryMiddleware): reads, the batch,
    # invalidation, and ingestion (idempotent by event_id).
    idempotent = True

    def get_exception_handler(self):
        return api_exception_handler

    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, Response) and response.status_code >= 400:
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        response = super().finalize_response(request, response, *args, **kwargs)
        rate_limit = getattr(request, "rate_limit", None)
        if rate_limit is not None:
            for header, value in rate_limit.headers().items():
                response[header] = value
        return response

    @property
    def scope(self) -> str:
        return request_scope(self.request) or ""

    def query(self) -> dict[str, Any]:
        """The validated query string: unknown or repeated parameters are 400."""
        serializer_class = self.query_serializer_class
        params = self.request.query_params
        if not params:  # the common case: the defaults, validated once per class
            defaults = _query_defaults(serializer_class)
            if defaults is not None:
                return dict(defaults)
        where = invalid_unicode_path(dict(params.lists()))
        if where is not None:
            raise InvalidUnicode("A query parameter is not valid Unicode (a lone surrogate).", details={"path": where.split(".")[0]})
        allowed = set(serializer_class().fields) if serializer_class else set()
        unknown = sorted(set(params) - allowed)
        if unknown:
            raise InvalidParameter(
                f"Unknown query parameter{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}."
                + (f" Allowed: {', '.join(sorted(allowed))}." if allowed else " This endpoint takes none."),
                code="unknown_parameter",
                details={"unknown": unknown, "allowed": sorted(allowed)},
            )
        repeated = sorted(key for key in params if len(params.getlist(key)) > 1)
        if repeated:
            raise InvalidParameter(f"Query parameter given more than once: {', '.join(repeated)}.", details={"repeated": repeated})
        if serializer_class is None:
            return {}
        serializer = serializer_class(data={key: params[key] for key in params})
        if not serializer.is_valid():
            errors = serializer.errors
            first_field = next(iter(errors))
            first = errors[first_field][0]
            where = "" if first_field == "non_field_errors" else f"{first_field}: "
            raise InvalidParameter(f"Invalid query parameter {where}{first}".rstrip(".") + ".", details=errors)
        return serializer.validated_data

    @staticmethod
    def customer_id(raw: str) -> str:
        try:
            return validate_customer_id(raw)
        except InvalidLookup as exc:
            raise ApiError(str(exc), code="invalid_customer_id") from exc

    def body(self, serializer_class: type[s.serializers.Serializer]) -> dict[str, Any]:
        self.query()
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


@functools.cache
def _query_defaults(serializer_class: type[s.serializers.Serializer] | None) -> dict[str, Any] | None:
    """The validated empty query string, or None when it is not valid on its own."""
    if serializer_class is None:
        return {}
    serializer = serializer_class(data={})
    return dict(serializer.validated_data) if serializer.is_valid() else None


def serving_headers(serving: Any) -> dict[str, str]:
    """How a text/plain block says what was served (the JSON forms carry the same as fields)."""
    headers = {"X-Context-Id": serving.context_id, "X-Context-Strategy": serving.strategy.name}
    if serving.experiment:
        headers["X-Context-Experiment"] = serving.experiment
    return headers
