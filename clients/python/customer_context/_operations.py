"""The API's operations, described once for both clients: method, path,
query, body, whether a retry is safe, and how the answer is read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx

from customer_context.models import (
    BatchItem,
    Changes,
    Context,
    CustomerPage,
    Event,
    IngestResult,
    Summary,
)

T = TypeVar("T")
API_PREFIX = "/api/v1/"


@dataclass(frozen=True)
class Operation(Generic[T]):
    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    params: dict[str, str] = field(default_factory=dict)
    json: Any = None
    idempotent: bool = True


def _id(value: str | int) -> str:
    return quote(str(value), safe="")


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _options(
    *,
    refresh: bool = False,
    max_chars: int | None = None,
    sections: Sequence[str] | None = None,
    agent: str | int | None = None,
) -> dict[str, str]:
    params: dict[str, str] = {}
    if refresh:
        params["refresh"] = "true"
    if max_chars is not None:
        params["max_chars"] = str(max_chars)
    if sections:
        params["sections"] = ",".join(sections)
    if agent is not None:
        params["agent"] = str(agent)
    return params


def _context(response: httpx.Response) -> Context:
    return Context.from_dict(response.json())


def _text(response: httpx.Response) -> str:
    return response.text


def _none(response: httpx.Response) -> None:
    return None


def get_context(customer_id: str, **options: Any) -> Operation[Context]:
    return Operation("GET", f"customers/{_id(customer_id)}/context/", _context, _options(**options))


def get_prompt(customer_id: str, *, include_changes: bool = False, **options: Any) -> Operation[str]:
    params = _options(**options)
    if include_changes:
        params["include_changes"] = "true"
    return Operation("GET", f"customers/{_id(customer_id)}/context/prompt/", _text, params)


def get_summary(customer_id: str, *, refresh: bool = False) -> Operation[Summary]:
    return Operation(
        "GET", f"customers/{_id(customer_id)}/context/summary/", lambda r: Summary.from_dict(r.json()), _options(refresh=refresh)
    )


def get_changes(
    customer_id: str, *, since: dt.datetime | str | None = None, since_last_contact: bool = False, refresh: bool = False
) -> Operation[Changes]:
    params = _options(refresh=refresh)
    if since is not None:
        params["since"] = since.isoformat() if isinstance(since, dt.datetime) else str(since)
    if since_last_contact:
        params["since_last_contact"] = _flag(since_last_contact)
    return Operation("GET", f"customers/{_id(customer_id)}/context/changes/", lambda r: Changes.from_dict(r.json()), params)


def context_for_email(email: str, **options: Any) -> Operation[Context]:
    return Operation("GET", "context/", _context, {"email": email, **_options(**options)})


def context_for_domain(domain: str, **options: Any) -> Operation[Context]:
    return Operation("GET", "context/", _context, {"domain": domain, **_options(**options)})


def ticket_context(ticket_id: str | int, **options: Any) -> Operation[Context]:
    return Operation("GET", f"tickets/{_id(ticket_id)}/context/", _context, _options(**options))


def ticket_prompt(ticket_id: str | int, **options: Any) -> Operation[str]:
    return Operation("GET", f"tickets/{_id(ticket_id)}/context/prompt/", _text, _options(**options))


def invalidate(customer_id: str) -> Operation[None]:
    return Operation("POST", f"customers/{_id(customer_id)}/context/invalidate/", _none)


def record_outcome(key: str, *, context_id: str | None = None, ticket_id: int | None = None, **outcome: Any) -> Operation[dict[str, Any]]:
    """Idempotent by ``key``: safe to retry."""
    body = {"key": key, **({"context_id": context_id} if context_id else {}), **({"ticket_id": ticket_id} if ticket_id else {})}
    body.update({name: value for name, value in outcome.items() if value is not None})
    return Operation("POST", "outcomes/", lambda r: r.json(), json=body)


def batch(customer_ids: Iterable[str] = (), emails: Iterable[str] = ()) -> Operation[list[BatchItem]]:
    body = {"customer_ids": list(customer_ids), "emails": list(emails)}
    return Operation("POST", "contexts/batch/", lambda r: [BatchItem.from_dict(item) for item in r.json()["results"]], json=body)


def search_customers(search: str = "", *, limit: int | None = None, offset: int | None = None) -> Operation[CustomerPage]:
    params = {"search": search} if search else {}
    if limit is not None:
        params["limit"] = str(limit)
    if offset is not None:
        params["offset"] = str(offset)
    return Operation("GET", "customers/", lambda r: CustomerPage.from_dict(r.json()), params)


def ingest_events(events: Iterable[Event | Mapping[str, Any]]) -> Operation[IngestResult]:
    """Idempotent (safe to retry) when every event has an ``event_id``, which the API requires."""
    items = [event.to_dict() if isinstance(event, Event) else dict(event) for event in events]
    return Operation(
        "POST",
        "events/",
        lambda r: IngestResult.from_dict(r.json()),
        json={"events": items},
        idempotent=all(item.get("event_id") for item in items),
    )


def raw_request(
    method: str, path: str, *, params: Mapping[str, str] | None, json: Any, idempotent: bool | None
) -> Operation[httpx.Response]:
    method = method.upper()
    safe = method in ("GET", "HEAD", "OPTIONS", "PUT", "DELETE") if idempotent is None else idempotent
    return Operation(method, path.lstrip("/"), lambda r: r, dict(params or {}), json, safe)
