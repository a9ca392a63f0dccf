"""The agents' API: thin views that validate, call a service or selector, render."""

from __future__ import annotations

import functools
import io
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ParseError
from rest_framework.negotiation import BaseContentNegotiation, DefaultContentNegotiation
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from enrichment.api import serializers as s
from enrichment.api import services
from enrichment.api.authentication import ApiTokenAuthentication
from enrichment.api.errors import ApiError, InvalidParameter, RequestTooLarge, api_exception_handler
from enrichment.api.permissions import HasApiToken, HasFullScope, request_scope
from enrichment.api.selectors import customer_directory, customer_exists
from enrichment.api.throttling import TokenRateThrottle
from enrichment.context.exceptions import CustomerNotFound, InvalidLookup
from enrichment.engine.lookups import validate_customer_id
from enrichment.engine.services import context_invalidate

# --- plumbing ------------------------------------------------------------------------------


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
            return super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError as exc:  # absurdly deep nesting: not a server error
            raise ParseError("JSON parse error - nested too deeply") from exc


class FirstRendererNegotiation(BaseContentNegotiation):
    """Each endpoint has one representation: answer with it whatever ``Accept``
    says, rather than 406."""

    def select_parser(self, request, parsers):
        return DefaultContentNegotiation().select_parser(request, parsers)

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def _errors(*codes: int) -> dict[int | tuple[int, str], OpenApiResponse]:
    descriptions = {
        400: "Invalid or unknown parameter, malformed customer id, invalid body.",
        401: "No token, or a malformed, unknown or revoked token.",
        403: "The token's scope does not allow this endpoint.",
        404: "Unknown customer.",
        413: "Request body too large.",
        415: "Body is not application/json.",
        429: "Rate limit exceeded; see Retry-After.",
        503: "The customer database is unreachable.",
    }
    return {(code, "application/json"): OpenApiResponse(s.ErrorSerializer, description=descriptions[code]) for code in codes}


CUSTOMER_ID_PARAM = OpenApiParameter(
    "customer_id",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The customer's external id: 1-64 of letters, digits, '_', '.', ':' and '-'.",
    examples=[OpenApiExample("Acme Corp", value="customer_123")],
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


CONTEXT_TAG = ["context"]


@functools.cache
def _query_defaults(serializer_class: type[s.serializers.Serializer] | None) -> dict[str, Any] | None:
    """The validated empty query string, or None when it is not valid on its own."""
    if serializer_class is None:
        return {}
    serializer = serializer_class(data={})
    return dict(serializer.validated_data) if serializer.is_valid() else None


# --- context -------------------------------------------------------------------------------


class CustomerContextView(ApiView):
    query_serializer_class = s.ContextQuerySerializer

    @extend_schema(
        operation_id="context_retrieve",
        summary="A customer's enriched context (JSON + prompt block)",
        tags=CONTEXT_TAG,
        parameters=[CUSTOMER_ID_PARAM, s.ContextQuerySerializer],
        responses={200: s.ContextSerializer, **_errors(400, 401, 403, 404, 429, 503)},
    )
    def get(self, request, customer_id: str) -> Response | HttpResponse:
        params = self.query()
        customer_id = self.customer_id(customer_id)
        agent = services.agent_get(agent=params["agent"], scope=self.scope) if params.get("agent") else None
        context = services.context_get(customer_id=customer_id, refresh=params["refresh"])
        if agent is None:  # the common shape: rendered once per cached context
            body = services.context_payload_json(
                context, scope=self.scope, sections=params.get("sections"), max_chars=params.get("max_chars")
            )
            return HttpResponse(body, content_type="application/json")
        return Response(
            services.context_payload(
                context, scope=self.scope, sections=params.get("sections"), max_chars=params.get("max_chars"), agent=agent
            )
        )


class CustomerContextPromptView(ApiView):
    query_serializer_class = s.PromptViewQuerySerializer
    renderer_classes = [PlainTextRenderer]

    @extend_schema(
        operation_id="context_prompt",
        summary="The <customer_context> prompt block as text/plain",
        tags=CONTEXT_TAG,
        parameters=[CUSTOMER_ID_PARAM, s.PromptViewQuerySerializer],
        responses={
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="The block, UTF-8."),
            **_errors(400, 401, 404, 429, 503),
        },
    )
    def get(self, request, customer_id: str) -> Response:
        params = self.query()
        customer_id = self.customer_id(customer_id)
        changes = None
        if params["include_changes"]:
            context, changes = services.context_changes_get(
                customer_id=customer_id, scope=self.scope, since_last_contact=True, refresh=params["refresh"]
            )
        else:
            context = services.context_get(customer_id=customer_id, refresh=params["refresh"])
        return Response(services.context_prompt(context, scope=self.scope, max_chars=params.get("max_chars"), changes=changes))


class CustomerContextChangesView(ApiView):
    query_serializer_class = s.ChangesQuerySerializer

    @extend_schema(
        operation_id="context_changes",
        summary="What changed for a customer since a moment or since their last contact",
        description=(
            "Give `since` (ISO 8601) or `since_last_contact=true` (since the customer's previous ticket, the one before "
            "the newest). Compares the context snapshot in force then with the current context: health and churn "
            "deltas, flags raised and cleared, plan/seat/renewal changes, new tickets and incidents, and the "
            "snapshots in between as a timeline. Snapshots are stored whenever a context changes in substance."
        ),
        tags=CONTEXT_TAG,
        parameters=[CUSTOMER_ID_PARAM, s.ChangesQuerySerializer],
        responses={200: s.ChangesSerializer, **_errors(400, 401, 404, 429, 503)},
    )
    def get(self, request, customer_id: str) -> Response:
        params = self.query()
        _context, changes = services.context_changes_get(
            customer_id=self.customer_id(customer_id),
            scope=self.scope,
            since=params.get("since"),
            since_last_contact=params["since_last_contact"],
            refresh=params["refresh"],
        )
        return Response(services.context_changes_payload(changes, scope=self.scope))


class CustomerContextSummaryView(ApiView):
    query_serializer_class = s.RefreshQuerySerializer

    @extend_schema(
        operation_id="context_summary",
        summary="The seed's summary of a customer's context",
        description="Exactly the seed's keys. A `customer_facing` token gets no `churn_risk` / `churn_risk_level`.",
        tags=CONTEXT_TAG,
        parameters=[CUSTOMER_ID_PARAM, s.RefreshQuerySerializer],
        responses={200: s.SummarySerializer, **_errors(400, 401, 404, 429, 503)},
    )
    def get(self, request, customer_id: str) -> Response:
        params = self.query()
        customer_id = self.customer_id(customer_id)
        return Response(services.context_summary(customer_id=customer_id, scope=self.scope, refresh=params["refresh"]))


class CustomerContextInvalidateView(ApiView):
    @extend_schema(
        operation_id="context_invalidate",
        summary="Drop a customer's cached context",
        description="Every process serves the recomputed context within CONTEXT_L1_TTL seconds.",
        tags=CONTEXT_TAG,
        parameters=[CUSTOMER_ID_PARAM],
        request=None,
        responses={204: OpenApiResponse(description="Invalidated."), **_errors(400, 401, 404, 429)},
    )
    def post(self, request, customer_id: str) -> Response:
        self.query()
        customer_id = self.customer_id(customer_id)
        if not customer_exists(customer_id=customer_id):
            raise CustomerNotFound(f"customer_id {customer_id!r}")
        context_invalidate(customer_id=customer_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ContextLookupView(ApiView):
    query_serializer_class = s.LookupQuerySerializer

    @extend_schema(
        operation_id="context_lookup",
        summary="The context of the customer a contact email or a domain belongs to",
        description="Give exactly one of `email` or `domain`; the other parameters are those of the context endpoint.",
        tags=CONTEXT_TAG,
        parameters=[s.LookupQuerySerializer],
        responses={200: s.ContextSerializer, **_errors(400, 401, 403, 404, 429, 503)},
    )
    def get(self, request) -> Response:
        params = self.query()
        agent = services.agent_get(agent=params["agent"], scope=self.scope) if params.get("agent") else None
        context = services.context_for_lookup(email=params.get("email"), domain=params.get("domain"), refresh=params["refresh"])
        return Response(
            services.context_payload(
                context, scope=self.scope, sections=params.get("sections"), max_chars=params.get("max_chars"), agent=agent
            )
        )


class ContextBatchView(ApiView):
    @extend_schema(
        operation_id="context_batch",
        summary="Contexts of up to 100 customers",
        description=(
            "One result per distinct id, in request order, each with `status` ok, not_found or invalid. "
            "A bad id never fails the batch. More than 100 ids: 400 `batch_too_large`."
        ),
        tags=CONTEXT_TAG,
        request=s.ContextBatchSerializer,
        responses={200: s.BatchResponseSerializer, **_errors(400, 401, 413, 415, 429, 503)},
    )
    def post(self, request) -> Response:
        data = self.body(s.ContextBatchSerializer)
        return Response({"results": services.context_batch(customer_ids=data["customer_ids"], scope=self.scope)})


# --- customers and events ---------------------------------------------------------------------------


class CustomerPagination(LimitOffsetPagination):
    default_limit = s.PAGE_SIZE_DEFAULT
    max_limit = s.PAGE_SIZE_MAX


class CustomerListView(ApiView):
    permission_classes = [HasFullScope]
    query_serializer_class = s.CustomerSearchQuerySerializer

    @extend_schema(
        operation_id="customers_list",
        summary="Find customers by name, domain, external id or contact email",
        description="Needs the `full` scope. Paginated with `limit` (max 100) and `offset`.",
        tags=["customers"],
        parameters=[s.CustomerSearchQuerySerializer],
        responses={200: s.CustomerPageSerializer, **_errors(400, 401, 403, 429)},
    )
    def get(self, request) -> Response:
        params = self.query()
        paginator = CustomerPagination()
        rows = paginator.paginate_queryset(customer_directory(search=params.get("search", "")), request, view=self)
        return paginator.get_paginated_response(rows)


class EventsIngestView(ApiView):
    permission_classes = [HasFullScope]

    @extend_schema(
        operation_id="events_ingest",
        summary="Ingest up to 1,000 product usage events",
        description=(
            "Needs the `full` scope. Idempotent by `event_id`: sending the same batch again stores nothing new. "
            "All or nothing: any unknown `customer_id` rejects the whole request (400 `unknown_customers`)."
        ),
        tags=["events"],
        request=s.EventsIngestSerializer,
        responses={200: s.IngestResponseSerializer, **_errors(400, 401, 403, 413, 415, 429)},
    )
    def post(self, request) -> Response:
        data = self.body(s.EventsRequestSerializer)
        result = services.events_ingest(events=data["events"])
        return Response({"received": result.received, "created": result.created, "duplicates": result.duplicates})


# --- operations ------------------------------------------------------------------------------------


class HealthView(APIView):
    """Liveness and readiness for load balancers: no token, no throttle."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []
    renderer_classes = [JSONRenderer]
    content_negotiation_class = FirstRendererNegotiation

    def get_exception_handler(self):
        return api_exception_handler

    @extend_schema(
        operation_id="healthz",
        summary="Database and cache reachability",
        tags=["operations"],
        auth=[],
        responses={200: s.HealthSerializer, 503: s.HealthSerializer},
    )
    def get(self, request) -> Response:
        result = services.system_health()
        return Response(result, status=status.HTTP_200_OK if result["status"] == "ok" else status.HTTP_503_SERVICE_UNAVAILABLE)
