"""The context for the ticket being answered: the account, the requester
and the ticket, as JSON and as the prompt block."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response

from enrichment.api import serializers as s
from enrichment.api import services
from enrichment.api.base import TICKET_ID_PARAM, ApiView, PlainTextRenderer, errors_schema, serving_headers

CONTEXT_TAG = ["context"]

_TICKET_DESCRIPTION = (
    "The account context of the ticket's customer with `ticket` (subject, status, priority, category, channel, "
    "age, first response time, times reopened) and `requester` (the ticket's contact, when it has one), and a "
    "prompt block with the parts `Requester:` and `Ticket being answered:`. The account's other open tickets are "
    "in `support_history.open_ticket_list` and the block's `Open tickets:` part. An unknown ticket is 404 "
    "`customer_not_found`."
)


class TicketContextView(ApiView):
    query_serializer_class = s.PromptQuerySerializer

    @extend_schema(
        operation_id="ticket_context",
        summary="Get the context for the ticket being answered",
        description=_TICKET_DESCRIPTION,
        tags=CONTEXT_TAG,
        parameters=[TICKET_ID_PARAM, s.PromptQuerySerializer],
        responses={200: s.ContextResponse, **errors_schema(400, 401, 404, 429, 503)},
    )
    def get(self, request, ticket_id: str) -> Response:
        params = self.query()
        context, conversation = services.context_for_ticket(ticket_id=ticket_id, refresh=params["refresh"])
        serving = services.serving_for(context, conversation)
        return Response(
            services.context_payload(
                context, scope=self.scope, max_chars=params.get("max_chars"), conversation=conversation, serving=serving
            )
        )


class TicketContextPromptView(ApiView):
    query_serializer_class = s.PromptQuerySerializer
    renderer_classes = [PlainTextRenderer]

    @extend_schema(
        operation_id="ticket_context_prompt",
        summary="Get the prompt block for the ticket being answered (text)",
        description=(
            "The `<customer_context>` block of the ticket's customer as `text/plain`, with the parts `Requester:` "
            "(the ticket's contact) and `Ticket being answered:` (kept whatever `max_chars` says), and the "
            "account's other open tickets. An unknown ticket is 404 `customer_not_found`."
        ),
        tags=CONTEXT_TAG,
        parameters=[TICKET_ID_PARAM, s.PromptQuerySerializer],
        responses={
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="The block, UTF-8."),
            **errors_schema(400, 401, 404, 429, 503),
        },
    )
    def get(self, request, ticket_id: str) -> Response:
        params = self.query()
        context, conversation = services.context_for_ticket(ticket_id=ticket_id, refresh=params["refresh"])
        serving = services.serving_for(context, conversation)
        text = services.context_prompt(
            context, scope=self.scope, max_chars=params.get("max_chars"), conversation=conversation, serving=serving
        )
        return Response(text, headers=serving_headers(serving))
