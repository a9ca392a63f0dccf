"""The standalone client's interface, served in process.

:class:`InProcessContextClient` has the methods of
``customer_context.ContextClient`` (the package in ``clients/python``) and
returns its result types and raises its exceptions, but calls the API's
services directly: no HTTP, no token, no throttle. The token's scope is a
constructor argument (``"customer_facing"`` gets the customer-facing view).
:class:`AsyncInProcessContextClient` is the same for asyncio code (each call
runs in Django's sync thread).

    client = InProcessContextClient(scope="full")
    context = client.get_context("customer_123")        # customer_context.Context
    prompt = client.inject_context_into_prompt("You are a helpful support agent.", "customer_123")
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from asgiref.sync import sync_to_async
from customer_context import (
    BatchItem,
    Changes,
    Context,
    CustomerPage,
    Event,
    IngestResult,
    Summary,
    error_for,
    inject_context_into_prompt,
)
from customer_context.client import FALLBACK_ERRORS
from rest_framework import exceptions as drf_exceptions
from rest_framework.serializers import Serializer

from customers.services import EventsBeforeRetention, UnknownCustomers
from enrichment.api import serializers as s
from enrichment.api import services
from enrichment.api.errors import ApiError, translate, validation_error_parts
from enrichment.api.selectors import customer_directory, customer_exists
from enrichment.api.serializers.experiments import OutcomeSerializer
from enrichment.context.exceptions import ContextEnrichmentError, CustomerNotFound, InvalidLookup
from enrichment.context.scopes import TokenScope, is_restricted
from enrichment.engine.lookups import validate_customer_id
from enrichment.engine.services import context_invalidate


@contextlib.contextmanager
def _api_errors() -> Iterator[None]:
    """The domain's and the serializers' exceptions as the client's, with the API's codes and statuses."""
    try:
        yield
    except drf_exceptions.ValidationError as exc:
        code, message, details = validation_error_parts(exc)
        raise error_for(400, code, message, details) from exc
    except (ContextEnrichmentError, UnknownCustomers, EventsBeforeRetention) as exc:
        translated = translate(exc)
        if not isinstance(translated, ApiError):
            raise
        raise error_for(translated.status_code, translated.error_code, translated.message, translated.details) from exc


def _validated(serializer_class: type[Serializer], data: Mapping[str, Any]) -> dict[str, Any]:
    """A query's options, validated as the API validates its query string."""
    serializer = serializer_class(data={key: value for key, value in data.items() if value is not None})
    if not serializer.is_valid():
        field, messages = next(iter(serializer.errors.items()))
        raise error_for(400, "invalid_parameter", f"Invalid parameter {field}: {messages[0]}", serializer.errors)
    return dict(serializer.validated_data)


def _body(serializer_class: type[Serializer], data: Mapping[str, Any]) -> dict[str, Any]:
    """A request body, validated as the API validates it (call inside :func:`_api_errors`)."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _customer_id(raw: str) -> str:
    try:
        return validate_customer_id(raw)
    except InvalidLookup as exc:
        raise error_for(400, "invalid_customer_id", str(exc)) from exc


class InProcessContextClient:
    """``customer_context.ContextClient``'s methods, in the Django process (see the module docstring)."""

    def __init__(self, scope: str = TokenScope.FULL, *, max_chars: int | None = None) -> None:
        self.scope = scope
        self.max_chars = max_chars

    def __enter__(self) -> InProcessContextClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Nothing to release; here for the client's interface."""

    def _payload(self, context: Any, conversation: Any = None, **options: Any) -> Context:
        serving = services.serving_for(context, conversation)
        return Context.from_dict(services.context_payload(context, scope=self.scope, conversation=conversation, serving=serving, **options))

    def get_context(
        self,
        customer_id: str,
        *,
        refresh: bool = False,
        sections: Sequence[str] | None = None,
        max_chars: int | None = None,
        agent: str | int | None = None,
    ) -> Context:
        query = {"refresh": refresh, "max_chars": max_chars, "sections": ",".join(sections) if sections else None, "agent": agent}
        params = _validated(s.ContextQuerySerializer, query)
        with _api_errors():
            found = services.agent_get(agent=str(agent), scope=self.scope) if agent is not None else None
            context = services.context_get(customer_id=_customer_id(customer_id), refresh=refresh)
            return self._payload(context, sections=params.get("sections"), max_chars=max_chars, agent=found)

    def get_prompt(self, customer_id: str, *, refresh: bool = False, max_chars: int | None = None, include_changes: bool = False) -> str:
        _validated(s.PromptQuerySerializer, {"max_chars": max_chars})
        with _api_errors():
            customer_id = _customer_id(customer_id)
            changes = None
            if include_changes:
                context, changes = services.context_changes_get(
                    customer_id=customer_id, scope=self.scope, since_last_contact=True, refresh=refresh
                )
            else:
                context = services.context_get(customer_id=customer_id, refresh=refresh)
            return services.context_prompt(context, scope=self.scope, max_chars=max_chars, changes=changes)

    def get_summary(self, customer_id: str, *, refresh: bool = False) -> Summary:
        with _api_errors():
            return Summary.from_dict(services.context_summary(customer_id=_customer_id(customer_id), scope=self.scope, refresh=refresh))

    def get_changes(
        self, customer_id: str, *, since: dt.datetime | str | None = None, since_last_contact: bool = False, refresh: bool = False
    ) -> Changes:
        since_text = since.isoformat() if isinstance(since, dt.datetime) else since
        params = _validated(s.ChangesQuerySerializer, {"since": since_text, "since_last_contact": since_last_contact})
        with _api_errors():
            _context, changes = services.context_changes_get(
                customer_id=_customer_id(customer_id),
                scope=self.scope,
                since=params.get("since"),
                since_last_contact=since_last_contact,
                refresh=refresh,
            )
            return Changes.from_dict(services.context_changes_payload(changes, scope=self.scope))

    def _lookup(self, *, email: str | None = None, domain: str | None = None, **options: Any) -> Context:
        sections = options.get("sections")
        params = _validated(
            s.LookupQuerySerializer,
            {"email": email, "domain": domain, "max_chars": options.get("max_chars"), "sections": ",".join(sections) if sections else None},
        )
        with _api_errors():
            context, conversation = services.context_for_lookup(email=email, domain=domain, refresh=options.get("refresh", False))
            return self._payload(context, conversation, sections=params.get("sections"), max_chars=options.get("max_chars"))

    def context_for_email(
        self, email: str, *, refresh: bool = False, sections: Sequence[str] | None = None, max_chars: int | None = None
    ) -> Context:
        return self._lookup(email=email, refresh=refresh, sections=sections, max_chars=max_chars)

    def context_for_domain(
        self, domain: str, *, refresh: bool = False, sections: Sequence[str] | None = None, max_chars: int | None = None
    ) -> Context:
        return self._lookup(domain=domain, refresh=refresh, sections=sections, max_chars=max_chars)

    def ticket_context(self, ticket_id: str | int, *, refresh: bool = False, max_chars: int | None = None) -> Context:
        with _api_errors():
            context, conversation = services.context_for_ticket(ticket_id=str(ticket_id), refresh=refresh)
            return self._payload(context, conversation, max_chars=max_chars)

    def ticket_prompt(self, ticket_id: str | int, *, refresh: bool = False, max_chars: int | None = None) -> str:
        with _api_errors():
            context, conversation = services.context_for_ticket(ticket_id=str(ticket_id), refresh=refresh)
            return services.context_prompt(context, scope=self.scope, max_chars=max_chars, conversation=conversation)

    def batch(self, customer_ids: Iterable[str] = (), emails: Iterable[str] = ()) -> list[BatchItem]:
        with _api_errors():
            data = _body(s.ContextBatchSerializer, {"customer_ids": list(customer_ids), "emails": list(emails)})
            results = services.context_batch(customer_ids=data["customer_ids"], emails=data["emails"], scope=self.scope)
            return [BatchItem.from_dict(item) for item in results]

    def invalidate(self, customer_id: str) -> None:
        customer_id = _customer_id(customer_id)
        with _api_errors():
            if not customer_exists(customer_id=customer_id):
                raise CustomerNotFound(f"customer_id {customer_id!r}")
            context_invalidate(customer_id=customer_id)

    def record_outcome(self, key: str, *, context_id: str | None = None, ticket_id: int | None = None, **outcome: Any) -> dict[str, Any]:
        """How the conversation ended, against the context served and/or the ticket; idempotent by ``key``."""
        given = {"key": key, "context_id": context_id, "ticket_id": ticket_id, **outcome}
        with _api_errors():
            data = _body(OutcomeSerializer, {name: value for name, value in given.items() if value is not None})
            recorded = services.outcome_report(recorded_by=f"in-process:{self.scope}", **data)
        return {"key": recorded.key, "created": recorded.created}

    def _full_scope_only(self) -> None:
        if is_restricted(self.scope):
            raise error_for(403, "permission_denied", "This operation needs the 'full' scope.")

    def search_customers(self, search: str = "", *, limit: int | None = None, offset: int | None = None) -> CustomerPage:
        self._full_scope_only()
        params = _validated(s.CustomerSearchQuerySerializer, {"search": search or None, "limit": limit, "offset": offset})
        rows = customer_directory(search=params.get("search", ""))
        first = params.get("offset", 0)
        size = params.get("limit") or s.PAGE_SIZE_DEFAULT
        return CustomerPage.from_dict({"count": rows.count(), "next": None, "previous": None, "results": list(rows[first : first + size])})

    def ingest_events(self, events: Iterable[Event | Mapping[str, Any]]) -> IngestResult:
        self._full_scope_only()
        items = [event.to_dict() if isinstance(event, Event) else dict(event) for event in events]
        with _api_errors():
            data = _body(s.EventsRequestSerializer, {"events": items})
            result = services.events_ingest(events=data["events"])
        return IngestResult.from_dict({"received": result.received, "created": result.created, "duplicates": result.duplicates})

    def inject_context_into_prompt(
        self,
        system_prompt: str,
        customer_id: str | None = None,
        *,
        email: str | None = None,
        ticket_id: str | int | None = None,
        max_chars: int | None = None,
        fallback: bool = True,
    ) -> str:
        """As ``ContextClient.inject_context_into_prompt``: the prompt left as it
        is for an unknown or missing customer or an unavailable context."""
        if sum(value is not None for value in (customer_id, email, ticket_id)) != 1:
            raise ValueError("Give exactly one of customer_id, email or ticket_id.")
        max_chars = max_chars if max_chars is not None else self.max_chars
        try:
            if customer_id is not None:
                block = self.get_prompt(customer_id, max_chars=max_chars)
            elif email is not None:
                block = self.context_for_email(email, max_chars=max_chars).prompt
            else:
                block = self.ticket_prompt(ticket_id, max_chars=max_chars)  # type: ignore[arg-type]
        except FALLBACK_ERRORS:
            if not fallback:
                raise
            return system_prompt
        return inject_context_into_prompt(system_prompt, block)


class AsyncInProcessContextClient:
    """:class:`InProcessContextClient` for asyncio code: the same methods, awaited."""

    _METHODS = (
        "get_context",
        "get_prompt",
        "get_summary",
        "get_changes",
        "context_for_email",
        "context_for_domain",
        "ticket_context",
        "ticket_prompt",
        "batch",
        "invalidate",
        "record_outcome",
        "search_customers",
        "ingest_events",
        "inject_context_into_prompt",
    )

    def __init__(self, scope: str = TokenScope.FULL, *, max_chars: int | None = None) -> None:
        self.sync = InProcessContextClient(scope, max_chars=max_chars)
        for name in self._METHODS:
            setattr(self, name, sync_to_async(getattr(self.sync, name)))

    async def __aenter__(self) -> AsyncInProcessContextClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Nothing to release; here for the client's interface."""
