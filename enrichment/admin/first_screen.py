"""The customer page's first screen: what the next reply needs, as template data.

Health with its top reasons, the open tickets, what changed since the last
contact, and (when the page is opened from a ticket, ``?ticket=<id>``, or a
contact, ``?contact=<email>``) who is asking and about which ticket.

:func:`page_conversation` asks the engine for the requester and ticket
(:mod:`enrichment.engine.requester`, the same parts an agent gets from
``/api/v1/tickets/{id}/context/``). Everything else here is presentation of
objects the caller already holds: no queries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode

from customers.models import ACCOUNT_ROLES
from enrichment.admin.formatting import factor_name
from enrichment.context.enriched import EnrichedContext
from enrichment.context.exceptions import ContextEnrichmentError
from enrichment.context.requester import Conversation, Requester, TicketInFocus, age_phrase
from enrichment.context.sections import TicketBrief
from enrichment.engine.requester import context_for_email, context_for_ticket, validate_ticket_id
from enrichment.history.snapshots import ContextChanges

MAX_RED_REASONS = 3
MAX_FACTOR_REASONS = 2
MAX_CHANGE_LINES = 8


@dataclass(frozen=True, slots=True)
class PageConversation:
    """What the page was opened for: the conversation (requester and/or
    ticket) when it belongs to this customer, else ``None`` with a ``note``
    saying why nothing is shown (unknown ticket, another customer's contact)."""

    conversation: Conversation | None = None
    note: str = ""


def page_conversation(*, params: Mapping[str, str], customer_external_id: str) -> PageConversation:
    """The requester/ticket asked for by ``?ticket=`` or ``?contact=`` (ticket
    first). Never raises for a bad value: a malformed id, an unknown ticket or
    email, or one of another customer, gives no conversation and a note."""
    raw_ticket, raw_contact = params.get("ticket", "").strip(), params.get("contact", "").strip()
    if not raw_ticket and not raw_contact:
        return PageConversation()
    what = f"ticket #{raw_ticket}" if raw_ticket else f"contact {raw_contact}"
    try:
        if raw_ticket:
            context, conversation = context_for_ticket(ticket_id=validate_ticket_id(raw_ticket))
        else:
            context, conversation = context_for_email(email=raw_contact)
    except ContextEnrichmentError:
        return PageConversation(note=f"No {what} found: showing the account without a requester.")
    if context.customer_id != customer_external_id:
        return PageConversation(note=f"The {what} belongs to another customer: showing this account without it.")
    return PageConversation(conversation=conversation)


def ticket_admin_url(ticket_id: int) -> str | None:
    """The ticket's admin change page, or ``None`` when tickets are not in this admin site."""
    try:
        return reverse("admin:support_ticket_change", args=[ticket_id])
    except NoReverseMatch:
        return None


def answer_url(change_url: str, ticket_id: int) -> str:
    """This customer page opened for answering ``ticket_id`` (``?ticket=``)."""
    return f"{change_url}?{urlencode({'ticket': ticket_id})}"


def top_reasons(context: EnrichedContext) -> list[dict[str, str]]:
    """Why the health is what it is, most telling first: the red flags (at
    most three), then the factors that lost the most points (at most two)."""
    health = context.account_health
    reasons = [{"kind": "red", "text": flag.message} for flag in health.flags if flag.level == "red"][:MAX_RED_REASONS]
    if not reasons:
        reasons = [{"kind": "yellow", "text": flag.message} for flag in health.flags if flag.level == "yellow"][:1]
    lost = sorted((f for f in health.breakdown if f.weight - f.points > 0), key=lambda f: (f.points - f.weight, f.factor))
    for factor in lost[:MAX_FACTOR_REASONS]:
        reasons.append({"kind": "factor", "text": f"{factor_name(factor.factor)} {factor.points:g}/{factor.weight:g} points"})
    return reasons


def _ticket_row(ticket: TicketBrief, *, now: dt.datetime, change_url: str) -> dict[str, Any]:
    return {
        "ticket": ticket,
        "url": ticket_admin_url(ticket.id),
        "answer_url": answer_url(change_url, ticket.id),
        "age": age_phrase(ticket.created_at, now),
        "updated": age_phrase(ticket.updated_at, now) if ticket.updated_at else "",
    }


def open_ticket_rows(context: EnrichedContext, *, now: dt.datetime, change_url: str) -> dict[str, Any]:
    """The account's newest open tickets with links, and how many more there are."""
    support = context.support_history
    rows = [_ticket_row(t, now=now, change_url=change_url) for t in support.open_ticket_list]
    return {"rows": rows, "total": support.open_tickets, "more": max(0, support.open_tickets - len(rows)),
            "urgent": support.urgent_open_tickets}  # fmt: skip


def changes_card(changes: ContextChanges | None) -> dict[str, Any]:
    """"Changes since last contact": the summary lines and the moment they start from."""
    if changes is None:
        return {"available": False, "lines": [], "more": 0, "since": None}
    lines = changes.lines()
    return {
        "available": changes.since is not None,
        "since": changes.last_contact_at,
        "baseline_at": changes.baseline_at,
        "lines": lines[:MAX_CHANGE_LINES],
        "more": max(0, len(lines) - MAX_CHANGE_LINES),
    }


def _requester(req: Requester, *, now: dt.datetime, change_url: str, focus_id: int | None) -> dict[str, Any]:
    """The requester and their other open tickets (the one being answered is shown beside)."""
    others = [t for t in req.open_tickets if t.id != focus_id][:3]
    return {
        "req": req,
        "roles": ", ".join(ACCOUNT_ROLES.get(code, code) for code in req.account_roles),
        "open": [_ticket_row(t, now=now, change_url=change_url) for t in others],
        "last_login": req.last_login_at,
    }


def _ticket(ticket: TicketInFocus, *, now: dt.datetime) -> dict[str, Any]:
    minutes = ticket.first_response_minutes
    return {
        "ticket": ticket,
        "url": ticket_admin_url(ticket.id),
        "age": age_phrase(ticket.created_at, now),
        "first_response": "not yet" if minutes is None else f"after {minutes} min" if minutes < 120 else f"after {minutes // 60} h",
    }


def conversation_card(page: PageConversation, *, now: dt.datetime, change_url: str) -> dict[str, Any] | None:
    """The requester and ticket card, or ``None`` when the page was opened plainly."""
    conversation = page.conversation
    if conversation is None:
        return {"note": page.note} if page.note else None
    focus_id = conversation.ticket.id if conversation.ticket else None
    requester = conversation.requester
    return {
        "note": "",
        "requester": _requester(requester, now=now, change_url=change_url, focus_id=focus_id) if requester else None,
        "ticket": _ticket(conversation.ticket, now=now) if conversation.ticket else None,
    }
