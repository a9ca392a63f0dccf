"""What the MCP tools do, as plain synchronous functions over the API's
services: the same lookups, the same scope rules (a ``customer_facing``
caller gets the customer-facing view), the same error codes. A failure is
:class:`ToolFailed` carrying the REST API's error body, so an agent sees
``{"error": {"code": "customer_not_found", ...}}`` whichever way it came."""

from __future__ import annotations

import json
from typing import Any, Literal

from rest_framework.exceptions import APIException

from enrichment.api import services
from enrichment.api.errors import error_body, translate
from enrichment.api.selectors import customer_directory
from enrichment.api.serializers import MAX_CHARS_MAX, MAX_CHARS_MIN, ChangesQuerySerializer
from enrichment.context.exceptions import ContextEnrichmentError, InvalidLookup, ScopeForbidden
from enrichment.context.scopes import is_restricted
from enrichment.engine.lookups import validate_customer_id
from enrichment.history.outcomes import InvalidOutcome
from enrichment.mcp_server.audience import current_caller

Format = Literal["prompt", "json"]
SEARCH_LIMIT_MAX = 50


class ToolFailed(Exception):
    """A tool call the caller can correct or retry; ``body`` is the REST API's error body."""

    def __init__(self, code: str, message: str, details: Any = None):
        self.body = error_body(code, message, details)
        super().__init__(json.dumps(self.body, ensure_ascii=False))


def as_tool_failure(exc: Exception) -> ToolFailed:
    """The API's error for a domain exception (CustomerNotFound -> customer_not_found ...)."""
    if isinstance(exc, InvalidOutcome):
        return ToolFailed("invalid_parameter", str(exc))
    translated = translate(exc)
    if isinstance(translated, APIException):
        code = getattr(translated, "error_code", "invalid_request")
        return ToolFailed(code, getattr(translated, "message", str(translated.detail)), getattr(translated, "details", None))
    return ToolFailed("invalid_request", str(exc))


def _one_lookup(customer_id: str | None, email: str | None, domain: str | None, ticket_id: int | None) -> str:
    given = [name for name, value in (("customer_id", customer_id), ("email", email), ("domain", domain), ("ticket_id", ticket_id))
             if value not in (None, "")]  # fmt: skip
    if len(given) != 1:
        raise InvalidLookup("give exactly one of customer_id, email, domain or ticket_id")
    return given[0]


def context_get(
    *,
    customer_id: str | None = None,
    email: str | None = None,
    domain: str | None = None,
    ticket_id: int | None = None,
    format: Format = "prompt",
    max_chars: int | None = None,
    refresh: bool = False,
) -> dict[str, Any]:
    """The context by exactly one identifier, as the prompt block or JSON."""
    caller = current_caller()
    try:
        which = _one_lookup(customer_id, email, domain, ticket_id)
        if max_chars is not None and not MAX_CHARS_MIN <= max_chars <= MAX_CHARS_MAX:
            raise InvalidLookup(f"max_chars must be between {MAX_CHARS_MIN} and {MAX_CHARS_MAX}")
        conversation = None
        if which == "customer_id":
            context = services.context_get(customer_id=validate_customer_id(customer_id), refresh=refresh)
        elif which == "ticket_id":
            context, conversation = services.context_for_ticket(ticket_id=str(ticket_id), refresh=refresh)
        else:
            context, conversation = services.context_for_lookup(email=email, domain=domain, refresh=refresh)
        serving = services.serving_for(context, conversation)
        served = {"customer_id": context.customer_id, **serving.to_dict()}
        if format == "json":
            payload = services.context_payload(context, scope=caller.scope, max_chars=max_chars, conversation=conversation, serving=serving)
            return {**served, "format": "json", "prompt": payload.pop("prompt"), "context": payload}
        prompt = services.context_prompt(context, scope=caller.scope, max_chars=max_chars, conversation=conversation, serving=serving)
        return {**served, "format": "prompt", "prompt": prompt, "context": None}
    except ContextEnrichmentError as exc:
        raise as_tool_failure(exc) from exc


def customers_search(*, query: str, limit: int = 10) -> list[dict[str, Any]]:
    """Customers by name, domain, external id or contact email (full scope only)."""
    if is_restricted(current_caller().scope):
        raise as_tool_failure(ScopeForbidden("Searching customers needs a token with the 'full' scope."))
    if not 1 <= limit <= SEARCH_LIMIT_MAX:
        raise ToolFailed("invalid_parameter", f"limit must be between 1 and {SEARCH_LIMIT_MAX}")
    if len(query) > 200:
        raise ToolFailed("invalid_parameter", "query must be at most 200 characters")
    return list(customer_directory(search=query)[:limit])


def changes_get(*, customer_id: str, since: str | None = None, since_last_contact: bool = False) -> dict[str, Any]:
    """What changed for a customer since a moment or since their last contact."""
    caller = current_caller()
    data = {"since_last_contact": since_last_contact} | ({"since": since} if since else {})
    serializer = ChangesQuerySerializer(data=data)
    if not serializer.is_valid():
        field, messages = next(iter(serializer.errors.items()))
        where = "" if field == "non_field_errors" else f"{field}: "
        raise ToolFailed("invalid_parameter", f"{where}{messages[0]}")
    try:
        _context, changes = services.context_changes_get(
            customer_id=validate_customer_id(customer_id),
            scope=caller.scope,
            since=serializer.validated_data.get("since"),
            since_last_contact=serializer.validated_data["since_last_contact"],
        )
    except ContextEnrichmentError as exc:
        raise as_tool_failure(exc) from exc
    return services.context_changes_payload(changes, scope=caller.scope)


def outcome_save(*, key: str, context_id: str = "", ticket_id: int | None = None, **fields: Any) -> dict[str, Any]:
    """Record how a conversation ended against the context served or the
    ticket (idempotent by ``key``), as ``POST /api/v1/outcomes/`` does."""
    if not context_id and not ticket_id:
        raise ToolFailed("invalid_parameter", "give context_id (from get_context) or ticket_id, or both")
    try:
        recorded = services.outcome_report(key=key, context_id=context_id, ticket_id=ticket_id, recorded_by=current_caller().name, **fields)
    except (ContextEnrichmentError, InvalidOutcome) as exc:
        raise as_tool_failure(exc) from exc
    return {"key": recorded.key, "created": recorded.created}
