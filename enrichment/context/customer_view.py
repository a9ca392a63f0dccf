"""What a bot talking to the customer may see: the ``customer_facing`` scope's
rendering, built by **allowlist** in this one module.

Only facts that may be said to the customer reach it: their company name,
plan, subscription status, seats, renewal and trial dates, their open tickets
and the state of each, incidents that affect them, what changed on their side,
and who is writing (name, email, title, roles, their own tickets). Nothing
else is copied, so nothing added to the context later can leak by default:
health score, churn risk, MRR, flags and their reasons, suggested actions
(escalation, discount rules), the account owner, agents, engagement figures
and judgements ("seats underused") never appear, on any endpoint or transport.
An extension section appears only when its provider is declared
``customer_facing``.

Every renderer here (JSON, summary, changes, prompt) reads the same
:class:`~enrichment.context.enriched.EnrichedContext` as the internal ones.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from enrichment.context.codec import to_jsonable
from enrichment.context.conversation_lines import as_of_line, open_ticket_lines, requester_lines, ticket_focus_lines
from enrichment.context.lifecycle import status_phrase, subscription_dates
from enrichment.context.prompt import extension_blocks
from enrichment.context.registry import extension_sections
from enrichment.context.safe_text import safe_text

if TYPE_CHECKING:
    from enrichment.context.enriched import EnrichedContext
    from enrichment.context.requester import Conversation

VIEW = "customer_facing"
OPEN_TAG, CLOSE_TAG = "<customer_context>", "</customer_context>"

# The allowlist, field by field: {output key: attribute of the section}.
SUBSCRIPTION_FIELDS = (
    "status",
    "plan",
    "billing_cycle",
    "seats_purchased",
    "seats_used",
    "renewal_date",
    "days_to_renewal",
    "is_trial",
    "trial_ends_at",
    "days_to_trial_end",
    "canceled_at",
)
TICKET_FIELDS = ("id", "subject", "status", "channel", "created_at", "updated_at")
INCIDENT_FIELDS = ("title", "impact", "status", "started_at")
REQUESTER_FIELDS = ("email", "name", "title", "account_roles")
FOCUS_TICKET_FIELDS = ("id", "subject", "status", "channel", "created_at", "updated_at", "resolved_at")
SUMMARY_KEYS = ("company_name", "plan", "open_tickets", "days_to_renewal", "lifecycle", "cache_hit")
CHANGE_KEYS = ("customer_id", "since", "since_last_contact", "last_contact_at", "current_at")
ACCOUNT_CHANGE_FIELDS = frozenset({"plan", "subscription_status", "renewal_date", "seats_purchased", "seats_used"})
NEW_TICKET_FIELDS = ("id", "subject", "status", "created_at")


def _pick(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    if isinstance(obj, dict):
        return {name: to_jsonable(obj.get(name)) for name in fields}
    return {name: to_jsonable(getattr(obj, name)) for name in fields}


def _ticket_list(tickets: Any) -> list[dict[str, Any]]:
    return [_pick(ticket, TICKET_FIELDS) for ticket in tickets]


def _affecting(context: EnrichedContext) -> list[Any]:
    return [incident for incident in context.product_status.active_incidents if incident.affects_customer]


def _extensions(context: EnrichedContext) -> dict[str, Any]:
    specs = extension_sections()
    return {
        key: to_jsonable(section)
        for key, section in context.extensions.items()
        if key in specs and specs[key].customer_facing
    }


def _conversation_dict(conversation: Conversation | None) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if conversation is None:
        return data
    if conversation.requester is not None:
        req = conversation.requester
        data["requester"] = {
            **_pick(req, REQUESTER_FIELDS),
            "open_tickets": _ticket_list(req.open_tickets),
            "recent_tickets": _ticket_list(req.recent_tickets),
        }
    if conversation.ticket is not None:
        data["ticket"] = _pick(conversation.ticket, FOCUS_TICKET_FIELDS)
    return data


def customer_view(context: EnrichedContext, *, conversation: Conversation | None = None) -> dict[str, Any]:
    """The context's JSON for the customer-facing scope (no ``prompt``: the
    caller adds :func:`customer_prompt`)."""
    intel, support = context.customer_intelligence, context.support_history
    return {
        "customer_id": context.customer_id,
        "view": VIEW,
        "company_name": intel.company_name,
        "plan": intel.plan,
        "plan_name": intel.plan_name,
        "lifecycle": intel.lifecycle,
        "subscription": _pick(context.subscription_details, SUBSCRIPTION_FIELDS),
        "open_tickets_count": support.open_tickets,
        "open_tickets": _ticket_list(support.open_ticket_list),
        "incidents": [_pick(incident, INCIDENT_FIELDS) for incident in _affecting(context)],
        **_conversation_dict(conversation),
        "extensions": _extensions(context),
        "enriched_at": to_jsonable(context.enriched_at),
        "cache_hit": context.cache_hit,
        "enrichment_latency_ms": context.enrichment_latency_ms,
    }


def customer_summary(summary: dict[str, Any]) -> dict[str, Any]:
    """The seed's summary, keeping only :data:`SUMMARY_KEYS`."""
    return {key: summary[key] for key in SUMMARY_KEYS if key in summary}


def customer_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """A changes answer (``ContextChanges.to_dict()``) keeping what changed on
    the customer's side: subscription facts, their new tickets, incidents."""
    account = [item for item in changes.get("account_changes") or [] if item.get("field") in ACCOUNT_CHANGE_FIELDS]
    tickets = [_pick(ticket, NEW_TICKET_FIELDS) for ticket in changes.get("new_tickets") or []]
    new_incidents = [{"title": i.get("title")} for i in changes.get("new_incidents") or []]
    resolved = [{"title": i.get("title")} for i in changes.get("resolved_incidents") or []]
    data = {key: changes.get(key) for key in CHANGE_KEYS}
    data.update(
        view=VIEW,
        changed=bool(account or tickets or new_incidents or resolved),
        account_changes=[{"field": i["field"], "from": i.get("from"), "to": i.get("to")} for i in account],
        new_tickets=tickets,
        new_incidents=new_incidents,
        resolved_incidents=resolved,
    )
    data["summary"] = change_lines(data)
    return data


_CHANGE_LABELS = {
    "plan": "Plan",
    "subscription_status": "Subscription status",
    "renewal_date": "Renewal date",
    "seats_purchased": "Seats purchased",
    "seats_used": "Seats in use",
}


def change_lines(data: dict[str, Any]) -> list[str]:
    """One line per change of :func:`customer_changes`' answer."""
    lines = [f"{_CHANGE_LABELS[i['field']]}: {i['from'] or 'none'} → {i['to'] or 'none'}" for i in data["account_changes"]]
    lines += [f"New incident affecting you: {i['title']}" for i in data["new_incidents"]]
    lines += [f"Incident over: {i['title']}" for i in data["resolved_incidents"]]
    lines += [f"New ticket #{t['id']} “{t['subject']}” ({t['status']})" for t in data["new_tickets"]]
    return lines


def _subscription_part(context: EnrichedContext) -> list[str]:
    sub = context.subscription_details
    lines = ["", "Subscription:"]
    if sub.status not in ("active",):
        lines.append(f"- Status: {safe_text(status_phrase(sub.status), limit=40)}")
    if sub.seats_purchased:
        lines.append(f"- Seats: {sub.seats_used} of {sub.seats_purchased} assigned")
    lines.extend(f"- {label}: {text}" for label, text in subscription_dates(sub))
    return lines


def _incident_part(context: EnrichedContext) -> list[str]:
    incidents = _affecting(context)[:3]
    if not incidents:
        return []
    return ["", "Known incidents affecting them:"] + [
        f"- {safe_text(i.title, limit=140)} ({safe_text(i.status, limit=30)})" for i in incidents
    ]


def _changes_part(changes: dict[str, Any] | None) -> list[str]:
    if changes is None:
        return []
    lines = change_lines(customer_changes(changes))[:8] or ["Nothing changed on their side"]
    return ["", "Changes since last contact:", *(f"- {safe_text(line, limit=200)}" for line in lines)]


# Dropped first to last to fit ``max_chars``, after the extension sections' parts;
# the header, the ticket being answered and the audience line never are.
DROP_ORDER = ("changes", "incidents", "open_tickets", "requester", "subscription")


def customer_prompt(
    context: EnrichedContext,
    *,
    conversation: Conversation | None = None,
    changes: dict[str, Any] | None = None,
    max_chars: int | None = None,
    omit: frozenset[str] = frozenset(),
) -> str:
    """The ``<customer_context>`` block for a customer-facing bot: the same
    safety rules as the internal block (:func:`safe_text` on every customer
    string), a budget, and only allowlisted facts."""
    intel, support = context.customer_intelligence, context.support_history
    now = (conversation.as_of if conversation else None) or context.enriched_at or dt.datetime.now(dt.UTC)
    plan = safe_text(intel.plan or context.subscription_details.plan or "none", limit=40).upper()
    parts: list[tuple[str, list[str]]] = [
        ("header", [
            as_of_line(context.enriched_at),
            "Audience: customer-facing (every fact below may be shared with the customer)",
            f"Company: {safe_text(intel.company_name, limit=120)}",
            f"Plan: {plan}",
        ]),
        ("requester", requester_lines(conversation.requester, now=now, internal=False) if conversation and conversation.requester else []),
        ("ticket", ticket_focus_lines(conversation.ticket, now=now, internal=False) if conversation and conversation.ticket else []),
        ("subscription", _subscription_part(context)),
        ("open_tickets", open_ticket_lines(support.open_ticket_list, support.open_tickets, now=now, priority=False)),
        ("incidents", _incident_part(context)),
        *((f"extension:{key}", lines) for key, lines in extension_blocks(context, customer_facing_only=True)),
        ("changes", _changes_part(changes)),
    ]  # fmt: skip
    left_out = set(omit) | ({"incidents"} if "product_status" in omit else set())  # a strategy's choice of parts
    parts = [(name, part) for name, part in parts if name not in left_out or name in ("header", "ticket")]
    dropped: list[str] = []

    def join() -> str:
        lines = [OPEN_TAG]
        for name, part in parts:
            if name not in dropped:
                lines.extend(part)
        if dropped:
            lines += ["", f"[Omitted to fit the size budget: {', '.join(d.replace('_', ' ') for d in dropped)}]"]
        return "\n".join([*lines, CLOSE_TAG])

    text = join()
    present = {name for name, part in parts if part}
    for name in (*(name for name, _ in parts if name.startswith("extension:")), *DROP_ORDER):
        if max_chars is None or len(text) <= max_chars:
            break
        if name in present:
            dropped.append(name)
            text = join()
    return text
