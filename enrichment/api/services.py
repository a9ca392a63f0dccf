"""What the API's views call: the context service's results, shaped and
redacted for a token's scope, plus the batch and ingestion."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

import structlog

from customers.selectors import customer_ref_get
from customers.services import EventInput, IngestResult, engagement_events_ingest
from enrichment.context.enriched import EnrichedContext
from enrichment.context.exceptions import CustomerNotFound, InvalidLookup, ScopeForbidden
from enrichment.context.prompt import render_prompt
from enrichment.context.redaction import is_restricted, prompt_hide_for, redact_context, redact_summary
from enrichment.context.registry import section_types
from enrichment.engine.lookups import INVALID_ID, customer_id_resolve, validate_customer_id
from enrichment.engine.service import get_context_service
from enrichment.history.snapshots import ContextChanges, context_changes
from enrichment.realtime.agent_stats import UnknownAgent, agent_performance_for, agent_resolve

logger = structlog.get_logger(__name__)

# Top-level keys that belong to a section: dropped with it by ``sections``.
_SECTION_EXTRAS = {"account_health": ("health_breakdown", "flags", "next_actions")}


def context_payload(
    context: EnrichedContext,
    *,
    scope: str,
    sections: Sequence[str] | None = None,
    max_chars: int | None = None,
    agent: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The context's JSON for a scope, limited to ``sections``, with the
    ``prompt`` block (always the whole block, within ``max_chars``). With
    ``agent`` (see :func:`agent_get`), ``agent_performance`` is always present
    and carries that agent's own figures under ``agent``."""
    data = context.to_dict()
    full_agent_performance = data.get("agent_performance", {})
    if sections is not None:
        wanted = set(sections)
        for name in section_types():
            if name not in wanted:
                data.pop(name, None)
                for extra in _SECTION_EXTRAS.get(name, ()):
                    data.pop(extra, None)
        data["sources"] = {key: value for key, value in data.get("sources", {}).items() if key in wanted}
        data["degraded"] = [item for item in data.get("degraded", []) if item.get("section") in wanted]
    if agent is not None:
        data["agent_performance"] = {**full_agent_performance, "agent": agent_performance_get(agent=agent, context=context)}
    data = redact_context(data, scope=scope)
    data["prompt"] = context_prompt(context, scope=scope, max_chars=max_chars)
    return {"customer_id": context.customer_id, **data}


def context_payload_json(
    context: EnrichedContext, *, scope: str, sections: Sequence[str] | None = None, max_chars: int | None = None
) -> bytes:
    """:func:`context_payload` as JSON bytes, rendered once per cached context
    and request shape: a context served from the cache keeps the rendering, and
    only this request's ``enrichment_latency_ms`` is written in front of it."""
    sections_key = tuple(sections) if sections is not None else None

    def render() -> bytes:
        data = context_payload(context, scope=scope, sections=sections, max_chars=max_chars)
        data.pop("enrichment_latency_ms", None)
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()

    key = ("api-json", context.cache_tier, scope, sections_key, max_chars)  # the tier shows in `sources`
    body = context.memoized(key, render) if context.cache_hit else render()
    return b'{"enrichment_latency_ms":' + json.dumps(context.enrichment_latency_ms).encode() + b"," + body[1:]


def context_prompt(context: EnrichedContext, *, scope: str, max_chars: int | None = None, changes: ContextChanges | None = None) -> str:
    if changes is not None:  # per request: not memoised with the context
        return render_prompt(context, max_chars=max_chars, hide=prompt_hide_for(scope), changes=changes)
    return context.to_prompt_context(max_chars=max_chars, hide=prompt_hide_for(scope))


def agent_get(*, agent: str, scope: str) -> dict[str, Any]:
    """The support agent named by the ``agent`` parameter (id or username).
    Only the full scope may ask: agent figures are internal."""
    if is_restricted(scope):
        raise ScopeForbidden("The agent parameter needs a token with the 'full' scope.")
    try:
        return agent_resolve(agent)
    except UnknownAgent as exc:
        raise InvalidLookup(f"agent: no active user with the id or username {agent!r}") from exc


def agent_performance_get(*, agent: dict[str, Any], context: EnrichedContext) -> dict[str, Any]:
    ref = customer_ref_get(external_id=context.customer_id)
    return agent_performance_for(agent=agent, customer_pk=ref.pk if ref else None)


def context_changes_get(
    *, customer_id: str, scope: str, since: dt.datetime | None = None, since_last_contact: bool = False, refresh: bool = False
) -> tuple[EnrichedContext, ContextChanges]:
    """The current context and what changed for the customer since ``since``
    or since their previous ticket (see :mod:`enrichment.history.snapshots`)."""
    context = get_context_service().enrich_context(customer_id, force_refresh=refresh)
    ref = customer_ref_get(external_id=context.customer_id)
    if ref is None:  # deleted since the context was cached
        raise CustomerNotFound(f"customer_id {customer_id!r}")
    changes = context_changes(
        context, customer_pk=ref.pk, since=since, since_last_contact=since_last_contact, hide_churn=is_restricted(scope)
    )
    return context, changes


def context_changes_payload(changes: ContextChanges, *, scope: str) -> dict[str, Any]:
    return redact_context(changes.to_dict(), scope=scope)


def context_get(*, customer_id: str, refresh: bool = False) -> EnrichedContext:
    return get_context_service().enrich_context(customer_id, force_refresh=refresh)


def context_for_lookup(*, email: str | None = None, domain: str | None = None, refresh: bool = False) -> EnrichedContext:
    return get_context_service().enrich_context(customer_id_resolve(email=email, domain=domain), force_refresh=refresh)


def context_summary(*, customer_id: str, scope: str, refresh: bool = False) -> dict[str, Any]:
    return redact_summary(context_get(customer_id=customer_id, refresh=refresh).get_summary(), scope=scope)


def _item_error(code: str, message: str) -> dict[str, Any]:
    return {"code": code, "message": message, "details": None}


def context_batch(*, customer_ids: Iterable[Any], scope: str) -> list[dict[str, Any]]:
    """One result per distinct id, in request order; a bad or unknown id is
    reported in its item and never fails the batch. The contexts are served and
    computed together by the engine (cache hits first, the rest in one chunk).
    A database outage, which fails every item alike, raises ``ContextUnavailable``."""
    distinct: list[Any] = []
    seen: set[Any] = set()
    for raw in customer_ids:
        key = (type(raw).__name__, raw if isinstance(raw, str) else json.dumps(raw, sort_keys=True, default=str))
        if key not in seen:
            seen.add(key)
            distinct.append(raw)
    valid = [raw for raw in distinct if _valid_id(raw)]
    found = get_context_service().enrich_many(valid) if valid else {}
    results: list[dict[str, Any]] = []
    for raw in distinct:
        item: dict[str, Any] = {"customer_id": raw, "status": "ok", "context": None, "error": None}
        outcome = found.get(raw) if isinstance(raw, str) else None
        if outcome is None:
            item.update(status="invalid", error=_item_error("invalid_customer_id", INVALID_ID))
        elif isinstance(outcome, CustomerNotFound):
            item.update(status="not_found", error=_item_error("customer_not_found", str(outcome)))
        elif isinstance(outcome, EnrichedContext):
            item["context"] = context_payload(outcome, scope=scope)
        else:
            item.update(status="invalid", error=_item_error("invalid_customer_id", str(outcome)))
        results.append(item)
    return results


def _valid_id(raw: Any) -> bool:
    try:
        validate_customer_id(raw)
    except InvalidLookup:
        return False
    return True


def events_ingest(*, events: Sequence[dict[str, Any]]) -> IngestResult:
    """Validated event dicts (see ``EventSerializer``) into the engagement store."""
    return engagement_events_ingest(
        events=[
            EventInput(
                event_id=e["event_id"],
                customer_id=e["customer_id"],
                kind=e["kind"],
                occurred_at=e["occurred_at"],
                feature=e.get("feature") or "",
                contact_email=e.get("contact_email") or None,
            )
            for e in events
        ]
    )
