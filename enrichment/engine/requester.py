"""Contexts for a conversation: the account's context (cached per customer)
plus who is asking and about which ticket (per person, per ticket).

A requester costs three queries whatever their history (the contact, their
tickets with totals, their activity grouped with their last login; a fourth
for a last login before the last 30 days, when there is none in them) and is kept in
a small per-process cache for ``CONTEXT_REQUESTER_TTL`` seconds, keyed by the
account context it was built beside: any change to the customer's data moves
that context on (change capture, :mod:`enrichment.engine.changes`), and with it
the requester. A ticket is read on every call (one query, by primary key).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from customers.selectors import ContactRef, contact_activity, contact_get
from customers.windows import trailing
from enrichment.context.enriched import EnrichedContext
from enrichment.context.exceptions import CustomerNotFound, InvalidLookup
from enrichment.context.requester import Conversation, Requester, TicketInFocus, age_hours
from enrichment.context.sections import TicketBrief
from enrichment.engine.lookups import CustomerId, validate_email
from enrichment.engine.service import get_context_service
from enrichment.ops.l1 import make_l1
from support.selectors import contact_tickets, ticket_get

_REQUESTERS = make_l1(max_entries=10_000, ttl=settings.CONTEXT_REQUESTER_TTL)
MAX_TICKET_ID = 2**63 - 1


def requester_build(*, contact: ContactRef, now: dt.datetime) -> Requester:
    """The requester section for a contact, read now (two queries, three when
    the contact's last login is older than the window)."""
    tickets = contact_tickets(contact_pk=contact.pk)
    activity = contact_activity(contact_pk=contact.pk, window=trailing(now))
    return Requester(
        email=contact.email,
        name=contact.name,
        title=contact.title,
        role=contact.role,
        account_roles=contact.account_roles,
        customer_id=contact.customer_external_id,
        last_login_at=activity.last_login_at,
        logins_30d=activity.logins,
        features_30d=tuple(feature for feature, _n in activity.features),
        tickets_total=tickets.total,
        open_tickets_count=tickets.open_total,
        avg_csat=round(tickets.csat_sum / tickets.csat_n, 2) if tickets.csat_n else None,
        csat_responses=tickets.csat_n,
        open_tickets=tuple(TicketBrief(*row) for row in tickets.open),
        recent_tickets=tuple(TicketBrief(*row) for row in tickets.recent),
    )


def _cached_requester(key: str, context: EnrichedContext, build) -> Requester:
    stamp = context.enriched_at.isoformat() if context.enriched_at else ""
    hit = _REQUESTERS.get(key)
    if hit is not None and hit[0] == stamp and hit[1].customer_id == context.customer_id:
        return hit[1]
    requester = build()
    _REQUESTERS.set(key, (stamp, requester))
    return requester


def context_for_email(*, email: str, refresh: bool = False) -> tuple[EnrichedContext, Conversation]:
    """The context of the customer a contact belongs to, with the contact as
    requester. Only an exact contact matches: an unknown address (a
    colleague not on file, a personal mailbox) is :class:`CustomerNotFound`,
    never a guess by its domain."""
    email = validate_email(email)
    now = timezone.now()
    key = f"email:{email}"
    hit = _REQUESTERS.get(key)
    contact = None
    if hit is None or refresh:
        contact = contact_get(email=email)
        if contact is None:
            raise CustomerNotFound(f"email {email!r}")
        customer_id = contact.customer_external_id
    else:
        customer_id = hit[1].customer_id
    context = get_context_service().enrich_context(CustomerId(customer_id), force_refresh=refresh)

    def build() -> Requester:
        found = contact if contact is not None else contact_get(email=email)
        if found is None:
            raise CustomerNotFound(f"email {email!r}")
        return requester_build(contact=found, now=now)

    requester = _cached_requester(key, context, build)
    if requester.customer_id != context.customer_id:  # the contact moved to another customer
        _REQUESTERS.delete(key)
        return context_for_email(email=email, refresh=refresh)
    return context, Conversation(requester=requester, as_of=now)


def validate_ticket_id(raw: object) -> int:
    """A ticket id from a URL: ASCII digits, 1 to 2**63-1."""
    text = str(raw)
    if not (text.isascii() and text.isdigit()) or len(text) > 19 or not 0 < int(text) <= MAX_TICKET_ID:
        raise InvalidLookup("ticket_id must be a positive whole number (ASCII digits)")
    return int(text)


def context_for_ticket(*, ticket_id: int, refresh: bool = False) -> tuple[EnrichedContext, Conversation]:
    """The context of a ticket's customer, with the ticket and its requester
    (the ticket's contact, when it has one)."""
    row = ticket_get(ticket_id=ticket_id)
    if row is None:
        raise CustomerNotFound(f"ticket {ticket_id}")
    now = timezone.now()
    context = get_context_service().enrich_context(CustomerId(row["customer__external_id"]), force_refresh=refresh)
    requester = None
    if row["contact_id"] is not None:
        contact_pk = row["contact_id"]

        def build() -> Requester:
            contact = contact_get(pk=contact_pk)
            return requester_build(contact=contact, now=now) if contact is not None else Requester(email="")

        requester = _cached_requester(f"contact:{contact_pk}", context, build)
        if not requester.email:
            requester = None
    return context, Conversation(requester=requester, ticket=ticket_in_focus(row, now=now), as_of=now)


def ticket_in_focus(row: dict, *, now: dt.datetime) -> TicketInFocus:
    created, responded = row["created_at"], row["first_response_at"]
    return TicketInFocus(
        id=row["id"],
        subject=row["subject"],
        status=row["status"],
        priority=row["priority"],
        category=row["category"],
        channel=row["channel"],
        created_at=created,
        updated_at=row["updated_at"],
        first_response_at=responded,
        first_response_minutes=max(0, round((responded - created).total_seconds() / 60)) if responded else None,
        resolved_at=row["resolved_at"],
        reopened_count=row["reopened_count"],
        csat=row["csat"],
        age_hours=age_hours(created, now),
    )
