"""The clients: :class:`ContextClient` (blocking) and :class:`AsyncContextClient`
(asyncio), with the same methods and results."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

import httpx

from customer_context import _operations as ops
from customer_context._retry import Attempts, RetryPolicy, connection_error, error_from_response
from customer_context.errors import APIConnectionError, ContextAPIError, NotFoundError, RateLimitedError, ServiceUnavailableError
from customer_context.models import BatchItem, Changes, Context, CustomerPage, Event, IngestResult, Summary
from customer_context.prompt import inject_context_into_prompt

__version__ = "0.1.0"
T = TypeVar("T")

# What inject_context_into_prompt(..., fallback=True) rides out: the prompt is left as it is.
FALLBACK_ERRORS = (NotFoundError, RateLimitedError, ServiceUnavailableError, APIConnectionError)


class _Base:
    def __init__(self, base_url: str | None, token: str | None, *, timeout: float, retry: RetryPolicy | None) -> None:
        base_url = base_url or os.environ.get("CUSTOMER_CONTEXT_URL")
        token = token or os.environ.get("CUSTOMER_CONTEXT_TOKEN")
        if not base_url or not token:
            raise ValueError("Give base_url and token, or set CUSTOMER_CONTEXT_URL and CUSTOMER_CONTEXT_TOKEN.")
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self._options: dict[str, Any] = {
            "base_url": self.base_url + ops.API_PREFIX,
            "headers": {"Authorization": f"Bearer {token}", "User-Agent": f"customer-context-client/{__version__}"},
            "timeout": timeout,
        }

    @staticmethod
    def _check(response: httpx.Response) -> None:
        if response.status_code >= 400:
            raise error_from_response(response)

    @staticmethod
    def _lookup(customer_id: str | None, email: str | None, ticket_id: str | int | None) -> None:
        if sum(value is not None for value in (customer_id, email, ticket_id)) != 1:
            raise ValueError("Give exactly one of customer_id, email or ticket_id.")


class ContextClient(_Base):
    """A blocking client for the Customer Context API.

    ``ContextClient("https://context.example.com", token)``, or with no
    arguments from ``CUSTOMER_CONTEXT_URL`` and ``CUSTOMER_CONTEXT_TOKEN``.
    Use it as a context manager (or call :meth:`close`). Errors raise
    :class:`~customer_context.ContextAPIError` subclasses; idempotent requests
    are retried as ``retry`` (a :class:`~customer_context.RetryPolicy`) says.
    """

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(base_url, token, timeout=timeout, retry=retry)
        self._http = httpx.Client(transport=transport, **self._options)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ContextClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _run(self, op: ops.Operation[T]) -> T:
        attempts = Attempts(self.retry, idempotent=op.idempotent)
        while True:
            attempts.start()
            try:
                response = self._http.request(op.method, op.path, params=op.params or None, json=op.json)
                self._check(response)
                return op.parse(response)
            except (httpx.TransportError, ContextAPIError) as exc:
                error = connection_error(exc) if isinstance(exc, httpx.TransportError) else exc
                wait = attempts.wait_after(error)
                if wait is None:
                    if error is exc:
                        raise
                    raise error from exc
                time.sleep(wait)

    # -- contexts
    def get_context(
        self,
        customer_id: str,
        *,
        refresh: bool = False,
        sections: Sequence[str] | None = None,
        max_chars: int | None = None,
        agent: str | int | None = None,
    ) -> Context:
        """A customer's context (JSON sections plus the ``prompt`` block)."""
        return self._run(ops.get_context(customer_id, refresh=refresh, sections=sections, max_chars=max_chars, agent=agent))

    def get_prompt(self, customer_id: str, *, refresh: bool = False, max_chars: int | None = None, include_changes: bool = False) -> str:
        """Only the ``<customer_context>`` block, as text."""
        return self._run(ops.get_prompt(customer_id, refresh=refresh, max_chars=max_chars, include_changes=include_changes))

    def get_summary(self, customer_id: str, *, refresh: bool = False) -> Summary:
        return self._run(ops.get_summary(customer_id, refresh=refresh))

    def get_changes(
        self, customer_id: str, *, since: dt.datetime | str | None = None, since_last_contact: bool = False, refresh: bool = False
    ) -> Changes:
        """What changed since ``since``, or since the customer's previous ticket (``since_last_contact=True``)."""
        return self._run(ops.get_changes(customer_id, since=since, since_last_contact=since_last_contact, refresh=refresh))

    def context_for_email(
        self, email: str, *, refresh: bool = False, sections: Sequence[str] | None = None, max_chars: int | None = None
    ) -> Context:
        """The context of the customer a contact belongs to, with ``requester`` (who is writing)."""
        return self._run(ops.context_for_email(email, refresh=refresh, sections=sections, max_chars=max_chars))

    def context_for_domain(
        self, domain: str, *, refresh: bool = False, sections: Sequence[str] | None = None, max_chars: int | None = None
    ) -> Context:
        return self._run(ops.context_for_domain(domain, refresh=refresh, sections=sections, max_chars=max_chars))

    def ticket_context(self, ticket_id: str | int, *, refresh: bool = False, max_chars: int | None = None) -> Context:
        """The context for the ticket being answered, with ``ticket`` and ``requester``."""
        return self._run(ops.ticket_context(ticket_id, refresh=refresh, max_chars=max_chars))

    def ticket_prompt(self, ticket_id: str | int, *, refresh: bool = False, max_chars: int | None = None) -> str:
        return self._run(ops.ticket_prompt(ticket_id, refresh=refresh, max_chars=max_chars))

    def batch(self, customer_ids: Iterable[str] = (), emails: Iterable[str] = ()) -> list[BatchItem]:
        """Up to 100 contexts at once, one item per distinct id then per distinct email."""
        return self._run(ops.batch(customer_ids, emails))

    def invalidate(self, customer_id: str) -> None:
        """Drop the cached context: the next read recomputes it."""
        self._run(ops.invalidate(customer_id))

    def record_outcome(self, key: str, *, context_id: str | None = None, ticket_id: int | None = None, **outcome: Any) -> dict[str, Any]:
        """How the conversation ended (``resolved``, ``escalated``, ``reopened``, ``csat``,
        ``handle_time_seconds``, ``context_rating``, ``note``), against the ``Context.context_id``
        served and/or the ticket; ``{"key", "created"}``, idempotent by ``key``."""
        return self._run(ops.record_outcome(key, context_id=context_id, ticket_id=ticket_id, **outcome))

    # -- customers and events
    def search_customers(self, search: str = "", *, limit: int | None = None, offset: int | None = None) -> CustomerPage:
        return self._run(ops.search_customers(search, limit=limit, offset=offset))

    def ingest_events(self, events: Iterable[Event | Mapping[str, Any]]) -> IngestResult:
        return self._run(ops.ingest_events(events))

    # -- prompts
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
        """``system_prompt`` followed by the context block of a customer, a
        contact (``email=``) or a ticket (``ticket_id=``). With ``fallback``
        (the default) an unknown customer, a throttled or unavailable service
        leaves the prompt as it is instead of raising."""
        self._lookup(customer_id, email, ticket_id)
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

    def request(
        self, method: str, path: str, *, params: Mapping[str, str] | None = None, json: Any = None, idempotent: bool | None = None
    ) -> httpx.Response:
        """Any endpoint under ``/api/v1/``, with the same errors and retries
        (POST is retried only with ``idempotent=True``)."""
        return self._run(ops.raw_request(method, path, params=params, json=json, idempotent=idempotent))


class AsyncContextClient(_Base):
    """The asyncio twin of :class:`ContextClient`: the same methods, awaited.
    Use ``async with AsyncContextClient(...) as client:`` (or ``await client.aclose()``)."""

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(base_url, token, timeout=timeout, retry=retry)
        self._http = httpx.AsyncClient(transport=transport, **self._options)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncContextClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _run(self, op: ops.Operation[T]) -> T:
        attempts = Attempts(self.retry, idempotent=op.idempotent)
        while True:
            attempts.start()
            try:
                response = await self._http.request(op.method, op.path, params=op.params or None, json=op.json)
                self._check(response)
                return op.parse(response)
            except (httpx.TransportError, ContextAPIError) as exc:
                error = connection_error(exc) if isinstance(exc, httpx.TransportError) else exc
                wait = attempts.wait_after(error)
                if wait is None:
                    if error is exc:
                        raise
                    raise error from exc
                await asyncio.sleep(wait)

    async def get_context(
        self,
        customer_id: str,
        *,
        refresh: bool = False,
        sections: Sequence[str] | None = None,
        max_chars: int | None = None,
        agent: str | int | None = None,
    ) -> Context:
        return await self._run(ops.get_context(customer_id, refresh=refresh, sections=sections, max_chars=max_chars, agent=agent))

    async def get_prompt(
        self, customer_id: str, *, refresh: bool = False, max_chars: int | None = None, include_changes: bool = False
    ) -> str:
        return await self._run(ops.get_prompt(customer_id, refresh=refresh, max_chars=max_chars, include_changes=include_changes))

    async def get_summary(self, customer_id: str, *, refresh: bool = False) -> Summary:
        return await self._run(ops.get_summary(customer_id, refresh=refresh))

    async def get_changes(
        self, customer_id: str, *, since: dt.datetime | str | None = None, since_last_contact: bool = False, refresh: bool = False
    ) -> Changes:
        return await self._run(ops.get_changes(customer_id, since=since, since_last_contact=since_last_contact, refresh=refresh))

    async def context_for_email(
        self, email: str, *, refresh: bool = False, sections: Sequence[str] | None = None, max_chars: int | None = None
    ) -> Context:
        return await self._run(ops.context_for_email(email, refresh=refresh, sections=sections, max_chars=max_chars))

    async def context_for_domain(
        self, domain: str, *, refresh: bool = False, sections: Sequence[str] | None = None, max_chars: int | None = None
    ) -> Context:
        return await self._run(ops.context_for_domain(domain, refresh=refresh, sections=sections, max_chars=max_chars))

    async def ticket_context(self, ticket_id: str | int, *, refresh: bool = False, max_chars: int | None = None) -> Context:
        return await self._run(ops.ticket_context(ticket_id, refresh=refresh, max_chars=max_chars))

    async def ticket_prompt(self, ticket_id: str | int, *, refresh: bool = False, max_chars: int | None = None) -> str:
        return await self._run(ops.ticket_prompt(ticket_id, refresh=refresh, max_chars=max_chars))

    async def batch(self, customer_ids: Iterable[str] = (), emails: Iterable[str] = ()) -> list[BatchItem]:
        return await self._run(ops.batch(customer_ids, emails))

    async def invalidate(self, customer_id: str) -> None:
        await self._run(ops.invalidate(customer_id))

    async def record_outcome(
        self, key: str, *, context_id: str | None = None, ticket_id: int | None = None, **outcome: Any
    ) -> dict[str, Any]:
        return await self._run(ops.record_outcome(key, context_id=context_id, ticket_id=ticket_id, **outcome))

    async def search_customers(self, search: str = "", *, limit: int | None = None, offset: int | None = None) -> CustomerPage:
        return await self._run(ops.search_customers(search, limit=limit, offset=offset))

    async def ingest_events(self, events: Iterable[Event | Mapping[str, Any]]) -> IngestResult:
        return await self._run(ops.ingest_events(events))

    async def inject_context_into_prompt(
        self,
        system_prompt: str,
        customer_id: str | None = None,
        *,
        email: str | None = None,
        ticket_id: str | int | None = None,
        max_chars: int | None = None,
        fallback: bool = True,
    ) -> str:
        self._lookup(customer_id, email, ticket_id)
        try:
            if customer_id is not None:
                block = await self.get_prompt(customer_id, max_chars=max_chars)
            elif email is not None:
                block = (await self.context_for_email(email, max_chars=max_chars)).prompt
            else:
                block = await self.ticket_prompt(ticket_id, max_chars=max_chars)  # type: ignore[arg-type]
        except FALLBACK_ERRORS:
            if not fallback:
                raise
            return system_prompt
        return inject_context_into_prompt(system_prompt, block)

    async def request(
        self, method: str, path: str, *, params: Mapping[str, str] | None = None, json: Any = None, idempotent: bool | None = None
    ) -> httpx.Response:
        return await self._run(ops.raw_request(method, path, params=params, json=json, idempotent=idempotent))
