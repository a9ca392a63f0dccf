"""The agents' API: thin views that validate, call a service or selector, render."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from enrichment.api import openapi, services
from enrichment.api import serializers as s
from enrichment.api.base import CUSTOMER_ID_PARAM, ApiView, FirstRendererNegotiation, PlainTextRenderer, errors_schema, serving_headers
from enrichment.api.errors import api_exception_handler
from enrichment.api.permissions import HasFullScope
from enrichment.api.selectors import customer_directory, customer_exists
from enrichment.context.exceptions import CustomerNotFound
from enrichment.engine.services import context_invalidate
from enrichment.ops.readiness import readiness

CONTEXT_TAG = ["context"]


# --- context -------------------------------------------------------------------------------


class CustomerContextView(ApiView):
    query_serializer_class = s.ContextQuerySerializer

    @extend_schema(
        operation_id="context_retrieve",
        summary="Get a customer's context (JSON and prompt block)",
        description=openapi.CONTEXT_DESCRIPTION,
        tags=CONTEXT_TAG,
        parameters=[CUSTOMER_ID_PARAM, s.ContextQuerySerializer],
        responses={
            200: OpenApiResponse(s.ContextResponse, description="The context.", examples=openapi.CONTEXT_EXAMPLES),
            **errors_schema(400, 401, 403, 404, 429, 503),
        },
    )
    def get(self, request, customer_id: str) -> Response | HttpResponse:
        params = self.query()
        customer_id = self.customer_id(customer_id)
        agent = services.agent_get(agent=params["agent"], scope=self.scope) if params.get("agent") else None
        context = services.context_get(customer_id=customer_id, refresh=params["refresh"])
        serving = services.serving_for(context)
        if agent is None:  # the common shape: rendered once per cached context
            body = services.context_payload_json(
                context, scope=self.scope, sections=params.get("sections"), max_chars=params.get("max_chars"), serving=serving
            )
            return HttpResponse(body, content_type="application/json")
        return Response(
            services.context_payload(
                context,
                scope=self.scope,
                sections=params.get("sections"),
                max_chars=params.get("max_chars"),
                agent=agent,
                serving=serving,
            )
        )


class CustomerContextPromptView(ApiView):
    query_serializer_class = s.PromptViewQuerySerializer
    renderer_classes = [PlainTextRenderer]

    @extend_schema(
        operation_id="context_prompt",
        summary="Get a customer's context as a prompt block (text)",
        description=openapi.PROMPT_DESCRIPTION,
        tags=CONTEXT_TAG,
        parameters=[CUSTOMER_ID_PARAM, s.PromptViewQuerySerializer],
        responses={
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="The block, UTF-8.", examples=openapi.PROMPT_EXAMPLES),
            **errors_schema(400, 401, 404, 429, 503),
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
        serving = services.serving_for(context)
        text = services.context_prompt(context, scope=self.scope, max_chars=params.get("max_chars"), changes=changes, serving=serving)
        return Response(text, headers=serving_headers(serving))


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
        responses={200: s.ChangesSerializer, **errors_schema(400, 401, 404, 429, 503)},
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
        summary="Get a customer's headline figures",
        description=(
            "A dozen headline figures for dashboards and routing decisions: company name, plan, health score, churn "
            "risk and its level, logins in the last 30 days, open tickets, days to renewal, whether there are "
            "critical issues or opportunities, and the subscription's `lifecycle` (trialing, active, past_due, "
            "canceled, no_subscription). A canceled account has churned: `churn_risk` is null and "
            "`churn_risk_level` is \"churned\". A `customer_facing` token gets only `company_name`, `plan`, "
            "`open_tickets`, `days_to_renewal`, `lifecycle` and `cache_hit`."
        ),
        tags=CONTEXT_TAG,
        parameters=[CUSTOMER_ID_PARAM, s.RefreshQuerySerializer],
        responses={
            200: OpenApiResponse(s.SummarySerializer, description="The figures.", examples=openapi.SUMMARY_EXAMPLES),
            **errors_schema(400, 401, 404, 429, 503),
        },
    )
    def get(self, request, customer_id: str) -> Response:
        params = self.query()
        customer_id = self.customer_id(customer_id)
        return Response(services.context_summary(customer_id=customer_id, scope=self.scope, refresh=params["refresh"]))


class CustomerContextInvalidateView(ApiView):
    @extend_schema(
        operation_id="context_invalidate",
        summary="Refresh a customer's context on its next read",
        description=(
            "Drops the cached context, e.g. after you changed the customer's data elsewhere: the next read "
            "recomputes it. 204: done; server processes may keep serving their in-memory copy for up to a second. "
            "202: the shared cache could not be reached; the invalidation is recorded in the database and applied "
            "as soon as the cache answers again, so there is nothing to retry. Safe to repeat."
        ),
        tags=CONTEXT_TAG,
        parameters=[CUSTOMER_ID_PARAM],
        request=None,
        responses={
            204: OpenApiResponse(description="Invalidated."),
            202: OpenApiResponse(s.InvalidationPendingSerializer, description="Recorded; applied when the cache answers."),
            **errors_schema(400, 401, 404, 429, 503),
        },
    )
    def post(self, request, customer_id: str) -> Response:
        self.query()
        customer_id = self.customer_id(customer_id)
        if not customer_exists(customer_id=customer_id):
            raise CustomerNotFound(f"customer_id {customer_id!r}")
        if context_invalidate(customer_id=customer_id):
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(
            {"status": "pending", "message": "The cache could not be reached; the invalidation is recorded and applied when it answers."},
            status=status.HTTP_202_ACCEPTED,
        )


class ContextLookupView(ApiView):
    query_serializer_class = s.LookupQuerySerializer

    @extend_schema(
        operation_id="context_lookup",
        summary="Get the context for a contact's email or a company's domain",
        description=(
            "Give exactly one of `email` or `domain`; the other parameters are those of the context endpoint. "
            "By `email` (an exact contact on file), the answer also has `requester`: who is writing, their roles "
            "on the account, their own recent product use, their open and recent tickets and their CSAT, and "
            "the prompt block has a `Requester:` part. An address not on file is 404, never a guess by its "
            "domain; a personal mailbox domain (gmail.com, outlook.com...) as `domain` is 400."
        ),
        tags=CONTEXT_TAG,
        parameters=[s.LookupQuerySerializer],
        responses={200: s.ContextResponse, **errors_schema(400, 401, 403, 404, 429, 503)},
    )
    def get(self, request) -> Response:
        params = self.query()
        agent = services.agent_get(agent=params["agent"], scope=self.scope) if params.get("agent") else None
        context, conversation = services.context_for_lookup(
            email=params.get("email"), domain=params.get("domain"), refresh=params["refresh"]
        )
        return Response(
            services.context_payload(
                context,
                scope=self.scope,
                sections=params.get("sections"),
                max_chars=params.get("max_chars"),
                agent=agent,
                conversation=conversation,
                serving=services.serving_for(context, conversation),
            )
        )


class ContextBatchView(ApiView):
    @extend_schema(
        operation_id="context_batch",
        summary="Get the contexts of up to 100 customers or contacts",
        description=(
            "One result per distinct id, in request order, then one per distinct email (`emails`: each context "
            "carries that `requester`), each with `status` ok, not_found or invalid. A bad item never fails the "
            "batch. More than 100 items in all: 400 `batch_too_large`."
        ),
        tags=CONTEXT_TAG,
        request=s.ContextBatchSerializer,
        examples=openapi.BATCH_EXAMPLES,
        responses={200: s.BatchResponseSerializer, **errors_schema(400, 401, 413, 415, 429, 503)},
    )
    def post(self, request) -> Response:
        data = self.body(s.ContextBatchSerializer)
        return Response({"results": services.context_batch(customer_ids=data["customer_ids"], emails=data["emails"], scope=self.scope)})


# --- customers and events ---------------------------------------------------------------------------


class CustomerPagination(LimitOffsetPagination):
    default_limit = s.PAGE_SIZE_DEFAULT
    max_limit = s.PAGE_SIZE_MAX


class CustomerListView(ApiView):
    permission_classes = [HasFullScope]
    query_serializer_class = s.CustomerSearchQuerySerializer

    @extend_schema(
        operation_id="customers_list",
        summary="Find customers by name, domain, id or contact email",
        description=(
            "Find the id to ask the context endpoints with: `search` matches the company name, domain, customer id "
            "or a contact's email. Each result has the plan and the last computed health. Paginated with `limit` "
            "(at most 100) and `offset`. Needs the `full` scope."
        ),
        tags=["customers"],
        parameters=[s.CustomerSearchQuerySerializer],
        examples=openapi.CUSTOMERS_EXAMPLES,
        responses={200: s.CustomerPageSerializer, **errors_schema(400, 401, 403, 429)},
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
        summary="Send up to 1,000 product usage events",
        description=(
            "Needs the `full` scope. Idempotent by `event_id`: sending the same batch again stores nothing new. "
            "All or nothing: any unknown `customer_id` rejects the whole request (400 `unknown_customers`)."
        ),
        tags=["events"],
        request=s.EventsIngestSerializer,
        examples=openapi.EVENTS_EXAMPLES,
        responses={200: s.IngestResponseSerializer, **errors_schema(400, 401, 403, 413, 415, 429)},
    )
    def post(self, request) -> Response:
        data = self.body(s.EventsRequestSerializer)
        result = services.events_ingest(events=data["events"])
        return Response({"received": result.received, "created": result.created, "duplicates": result.duplicates})


# --- operations ------------------------------------------------------------------------------------


class _OperationsView(APIView):
    """For orchestrators and load balancers: no token, no throttle."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []
    renderer_classes = [JSONRenderer]
    content_negotiation_class = FirstRendererNegotiation

    def get_exception_handler(self):
        return api_exception_handler


class HealthView(_OperationsView):
    """Liveness: the process answers. No dependency is consulted, so a Redis or
    database outage never makes an orchestrator restart healthy processes."""

    @extend_schema(
        operation_id="healthz",
        summary="Liveness: the process answers (no dependency checked)",
        description=(
            "200 `{\"status\": \"ok\"}` as long as the process answers. No database or cache is consulted, so an "
            "outage of either never makes an orchestrator restart healthy processes. No token needed."
        ),
        tags=["operations"],
        auth=[],
        responses={200: s.LivenessSerializer},
    )
    def get(self, request) -> Response:
        return Response({"status": "ok"})


class ReadyView(_OperationsView):
    """Readiness: 503 only when the database is unreachable (answered within
    a second); Redis or the broker down is ``degraded`` with 200."""

    @extend_schema(
        operation_id="readyz",
        summary="Readiness: database required; cache and broker degraded, not failing",
        description=(
            "503 only when the database cannot be reached within a second. The cache or the task broker being down "
            "is reported as `degraded` with 200: the service still answers, more slowly. No token needed."
        ),
        tags=["operations"],
        auth=[],
        responses={
            200: s.ReadinessSerializer,
            503: OpenApiResponse(s.ReadinessSerializer, description="The database is unreachable.", examples=openapi.NOT_READY_EXAMPLES),
        },
    )
    def get(self, request) -> Response:
        result = readiness()
        return Response(result, status=status.HTTP_503_SERVICE_UNAVAILABLE if result["status"] == "error" else status.HTTP_200_OK)
