"""Giving agents the customer's context.

In the same process as Django, mix :class:`ContextAwareAgentMixin` into an
agent class (the seed's ``CONTEXT_AWARE`` capability)::

    class MyAgent(ContextAwareAgentMixin, BaseAgent):
        async def process(self, state):
            context = await self.get_enriched_context(state["customer_id"])
            prompt = await self.inject_context_into_prompt("You are a helpful support agent.", state["customer_id"])

Anywhere else, talk to the API with :class:`ContextClient`::

    with ContextClient("http://127.0.0.1:8000", token) as client:
        block = client.get_prompt("customer_123")
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import structlog

from enrichment.context.customer_view import customer_prompt
from enrichment.context.enriched import EnrichedContext
from enrichment.context.exceptions import ContextEnrichmentError
from enrichment.context.scopes import TokenScope, is_restricted
from enrichment.engine.service import get_context_service

logger = structlog.get_logger(__name__)


class ContextAwareAgentMixin:
    """Context for agents running in-process, through the context service's async methods.

    Class attributes to tune it: ``context_scope`` (``"customer_facing"`` renders
    the customer-facing block of :mod:`enrichment.context.customer_view`), ``context_max_chars`` (the
    prompt budget) and ``context_service`` (defaults to the shared service).
    A missing customer or an unavailable context never breaks the agent:
    :meth:`get_enriched_context` returns ``None`` and the prompt is left as it is.
    """

    context_scope: str = TokenScope.FULL
    context_max_chars: int | None = None
    context_service: Any = None

    def _get_context_service(self):
        if self.context_service is not None:
            return self.context_service
        return get_context_service()

    async def get_enriched_context(self, customer_id: str | None, *, force_refresh: bool = False) -> EnrichedContext | None:
        if not customer_id:
            return None
        try:
            return await self._get_context_service().aenrich_context(customer_id, force_refresh=force_refresh)
        except ContextEnrichmentError as exc:
            logger.warning("agent_context_unavailable", customer_id=customer_id, error=type(exc).__name__)
            return None

    async def inject_context_into_prompt(self, system_prompt: str, customer_id: str | None) -> str:
        """``system_prompt`` followed by the ``<customer_context>`` block."""
        context = await self.get_enriched_context(customer_id)
        if context is None:
            return system_prompt
        if is_restricted(self.context_scope):
            block = customer_prompt(context, max_chars=self.context_max_chars)
        else:
            block = context.to_prompt_context(max_chars=self.context_max_chars)
        return f"{system_prompt.rstrip()}\n\n{block}"


# --- HTTP client -------------------------------------------------------------------------------


class ContextAPIError(Exception):
    """The API answered with an error (``status_code``, ``code``, ``message``, ``details``)."""

    def __init__(self, status_code: int, code: str, message: str, details: Any = None, retry_after: float | None = None):
        self.status_code = status_code
        self.code = code
        self.message = message
        self.details = details
        self.retry_after = retry_after
        super().__init__(f"{status_code} {code}: {message}")


class CustomerNotFoundError(ContextAPIError):
    """404 ``customer_not_found``."""


class ContextClient:
    """A small synchronous client for the context API (httpx).

    Every method raises :class:`ContextAPIError` (:class:`CustomerNotFoundError`
    for an unknown customer) on a 4xx/5xx answer, and ``httpx.HTTPError`` when
    the server cannot be reached.
    """

    def __init__(self, base_url: str, token: str, *, timeout: float = 5.0, transport: httpx.BaseTransport | None = None):
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/api/v1/",
            headers={"Authorization": f"Bearer {token}", "User-Agent": "cce-context-client/1"},
            timeout=timeout,
            transport=transport,
        )

    # -- lifecycle
    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ContextClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- endpoints
    def get_context(
        self,
        customer_id: str,
        *,
        refresh: bool = False,
        sections: list[str] | tuple[str, ...] | None = None,
        max_chars: int | None = None,
    ) -> dict[str, Any]:
        params = _params(refresh=refresh, sections=sections, max_chars=max_chars)
        return self._request("GET", f"customers/{_quote(customer_id)}/context/", params=params).json()

    def get_prompt(self, customer_id: str, *, refresh: bool = False, max_chars: int | None = None) -> str:
        params = _params(refresh=refresh, max_chars=max_chars)
        return self._request("GET", f"customers/{_quote(customer_id)}/context/prompt/", params=params).text

    def get_summary(self, customer_id: str, *, refresh: bool = False) -> dict[str, Any]:
        return self._request("GET", f"customers/{_quote(customer_id)}/context/summary/", params=_params(refresh=refresh)).json()

    def context_for_email(self, email: str, **options: Any) -> dict[str, Any]:
        return self._request("GET", "context/", params={"email": email, **_params(**options)}).json()

    def context_for_domain(self, domain: str, **options: Any) -> dict[str, Any]:
        return self._request("GET", "context/", params={"domain": domain, **_params(**options)}).json()

    def invalidate(self, customer_id: str) -> None:
        self._request("POST", f"customers/{_quote(customer_id)}/context/invalidate/")

    def batch(self, customer_ids: list[str]) -> list[dict[str, Any]]:
        return self._request("POST", "contexts/batch/", json={"customer_ids": customer_ids}).json()["results"]

    # -- plumbing
    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = self._http.request(method, url, **kwargs)
        if response.status_code >= 400:
            raise _error(response)
        return response


def _quote(customer_id: str) -> str:
    return quote(customer_id, safe="")


def _params(*, refresh: bool = False, sections: list[str] | tuple[str, ...] | None = None, max_chars: int | None = None) -> dict[str, str]:
    params: dict[str, str] = {}
    if refresh:
        params["refresh"] = "true"
    if sections:
        params["sections"] = ",".join(sections)
    if max_chars is not None:
        params["max_chars"] = str(max_chars)
    return params


def _error(response: httpx.Response) -> ContextAPIError:
    code, message, details = "http_error", response.reason_phrase or "error", None
    try:
        error = response.json()["error"]
        code, message, details = error["code"], error["message"], error.get("details")
    except (ValueError, KeyError, TypeError):
        pass
    retry_after = None
    if "Retry-After" in response.headers:
        try:
            retry_after = float(response.headers["Retry-After"])
        except ValueError:
            retry_after = None
    cls = CustomerNotFoundError if code == "customer_not_found" else ContextAPIError
    return cls(response.status_code, code, message, details, retry_after)
