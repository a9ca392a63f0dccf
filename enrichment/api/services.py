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
from enrichment.context.customer_view import customer_changes, customer_prompt, customer_summary, customer_view
from enrichment.context.enriched import EnrichedContext
from enrichment.context.exceptions import CustomerNotFound, ExperimentNotFound, InvalidLookup, ScopeForbidden
from enrichment.context.prompt import render_prompt
from enrichment.context.registry import section_types
from enrichment.context.requester import Conversation
from enrichment.context.scopes import is_restricted
from enrichment.engine import requester
from enrichment.engine.lookups import INVALID_ID, customer_id_resolve, validate_customer_id
from enrichment.engine.requester import context_for_email
from enrichment.engine.service import get_context_service
from enrichment.experiments.models import Experiment
from enrichment.experiments.results import experiment_results, results_payload
from enrichment.experiments.services import Serving, outcome_post, serving_choose
from enrichment.history.outcomes import OutcomeRecorded
from enrichment.history.snapshots import ContextChanges, context_changes
from enrichment.realtime.agent_stats import UnknownAgent, agent_performance_for, agent_resolve
from support.selectors import ticket_get

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
    conversation: Conversation | None = None,
    serving: Serving | None = None,
) -> dict[str, Any]:
    """The context's JSON for a scope with the ``prompt`` block (always the
    whole block, within ``max_chars``, as ``serving``'s strategy builds it,
    with its ``context_id``, ``strategy`` and ``experiment``). The full scope gets every section
    (limited to ``sections``), ``requester`` and ``ticket`` from
    ``conversation``, and with ``agent`` (see :func:`agent_get`) that agent's
    own figures under ``agent_performance.agent``. A restricted scope gets the
    customer-facing view (:mod:`enrichment.context.customer_view`) whatever
    it asks."""
    if is_restricted(scope):
        data = customer_view(context, conversation=conversation)
        data["prompt"] = context_prompt(context, scope=scope, max_chars=max_chars, conversation=conversation, serving=serving)
        return {**data, **(serving.to_dict() if serving else {})}
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
    if conversation is not None:
        data.update(conversation.to_dict())
    data["prompt"] = context_prompt(context, scope=scope, max_chars=max_chars, conversation=conversation, serving=serving)
    return {"customer_id": context.customer_id, **data, **(serving.to_dict() if serving else {})}


def context_payload_json(
    context: EnrichedContext,
    *,
    scope: str,
    serving: Serving,
    sections: Sequence[str] | None = None,
    max_chars: int | None = None,
) -> bytes:
    """:func:`context_payload` as JSON bytes, rendered once per cached context,
    request shape and strategy: a context served from the cache keeps the
    rendering, and only this request's ``enrichment_latency_ms``,
    ``context_id``, ``strategy`` and ``experiment`` are written in front of it."""
    sections_key = tuple(sections) if sections is not None else None

    def render() -> bytes:
        data = context_payload(context, scope=scope, sections=sections, max_chars=max_chars, serving=serving)
        for per_request in ("enrichment_latency_ms", "context_id", "strategy", "experiment"):
            data.pop(per_request, None)
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()

    key = ("api-json", context.cache_tier, scope, sections_key, max_chars, serving.strategy.name)  # the tier shows in `sources`
    body = context.memoized(key, render) if context.cache_hit else render()
    head = json.dumps({"enrichment_latency_ms": context.enrichment_latency_ms, **serving.to_dict()}, separators=(",", ":"))
    return head[:-1].encode() + b"," + body[1:]


def context_prompt(
    context: EnrichedContext,
    *,
    scope: str,
    max_chars: int | None = None,
    changes: ContextChanges | None = None,
    conversation: Conversation | None = None,
    serving: Serving | None = None,
) -> str:
    """The block for a scope (the internal one, or the customer-facing one),
    as ``serving``'s strategy builds it (default: the whole block)."""
    strategy = serving.strategy if serving is not None else None
    budget = strategy.budget(max_chars) if strategy else max_chars
    omit = strategy.omitted() if strategy else frozenset()
    if is_restricted(scope):
        changed = changes.to_dict() if changes is not None else None
        return customer_prompt(context, conversation=conversation, changes=changed, max_chars=budget, omit=omit)
    if changes is not None or conversation is not None:  # per request: not memoised with the context
        return render_prompt(context, max_chars=budget, changes=changes, conversation=conversation, omit=omit)
    return context.to_prompt_context(max_chars=budget, omit=omit)


def serving_for(context: EnrichedContext, conversation: Conversation | None = None) -> Serving:
    """The strategy this request is served with (see :func:`serving_choose`)."""
    requester = conversation.requester if conversation else None
    ticket = conversation.ticket if conversation else None
    return serving_choose(
        customer_id=context.customer_id, ticket_id=ticket.id if ticket else None, email=requester.email if requester else None
    )


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
    data = changes.to_dict()
    return customer_changes(data) if is_restricted(scope) else data


def context_get(*, customer_id: str, refresh: bool = False) -> EnrichedContext:
    return get_context_service().enrich_context(customer_id, force_refresh=refresh)


def context_for_lookup(
    *, email: str | None = None, domain: str | None = None, refresh: bool = False
) -> tuple[EnrichedContext, Conversation | None]:
    """By contact email: the context with that person as requester. By
    domain: the context alone (a domain names a company, not a person)."""
    if email is not None:
        return context_for_email(email=email, refresh=refresh)
    return get_context_service().enrich_context(customer_id_resolve(domain=domain), force_refresh=refresh), None


def context_for_ticket(*, ticket_id: str, refresh: bool = False) -> tuple[EnrichedContext, Conversation]:
    return requester.context_for_ticket(ticket_id=requester.validate_ticket_id(ticket_id), refresh=refresh)


def summary_for(context: EnrichedContext, *, scope: str) -> dict[str, Any]:
    summary = context.get_summary()
    return customer_summary(summary) if is_restricted(scope) else summary


def context_summary(*, customer_id: str, scope: str, refresh: bool = False) -> dict[str, Any]:
    return summary_for(context_get(customer_id=customer_id, refresh=refresh), scope=scope)


def _item_error(code: str, message: str) -> dict[str, Any]:
    return {"code": code, "message": message, "details": None}


def context_batch(*, customer_ids: Iterable[Any], scope: str, emails: Iterable[Any] = ()) -> list[dict[str, Any]]:
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
            item["context"] = context_payload(outcome, scope=scope, serving=serving_for(outcome))
        else:
            item.update(status="invalid", error=_item_error("invalid_customer_id", str(outcome)))
        results.append(item)
    return results + [_batch_email_item(raw, scope=scope) for raw in dict.fromkeys(_hashable(e) for e in emails)]


def _hashable(raw: Any) -> Any:
    return raw if isinstance(raw, (str, int, float, bool, type(None))) else json.dumps(raw, sort_keys=True, default=str)


def _batch_email_item(raw: Any, *, scope: str) -> dict[str, Any]:
    """One email of a batch: the requester's context, or the item's error.
    Each costs the requester's own queries (at most 100 per batch)."""
    item: dict[str, Any] = {"email": raw, "status": "ok", "context": None, "error": None}
    try:
        context, conversation = context_for_email(email=raw)
    except InvalidLookup as exc:
        item.update(status="invalid", error=_item_error("invalid_email", str(exc)))
    except CustomerNotFound as exc:
        item.update(status="not_found", error=_item_error("customer_not_found", str(exc)))
    else:
        item["context"] = context_payload(context, scope=scope, conversation=conversation, serving=serving_for(context, conversation))
    return item


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


def outcome_report(*, key: str, recorded_by: str, context_id: str = "", ticket_id: int | None = None, **fields: Any) -> OutcomeRecorded:
    """An outcome from the API or MCP: the customer from the context id, else from the ticket."""
    customer_id = ""
    if ticket_id is not None:
        ticket = ticket_get(ticket_id=ticket_id)
        if ticket is None:
            raise CustomerNotFound(f"ticket {ticket_id}")
        customer_id = ticket["customer__external_id"]
    return outcome_post(key=key, context_id=context_id, ticket_id=ticket_id, customer_id=customer_id, recorded_by=recorded_by, **fields)


def experiment_results_get(*, name: str) -> dict[str, Any]:
    experiment = Experiment.objects.filter(name=name).first() if len(name) <= 60 else None
    if experiment is None:
        raise ExperimentNotFound(name)
    return results_payload(experiment_results(experiment=experiment))
