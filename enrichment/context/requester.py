"""Who is asking, and about what: the ``requester`` and ``ticket`` parts of a
context served for a conversation.

The account context is cached per customer; these parts are per person and
per ticket, built beside it (:mod:`enrichment.engine.requester`) and rendered
by the same JSON, prompt and admin code. Every string here that a customer
wrote (names, titles, ticket subjects) is customer text: the prompt renderer
makes it safe like every other.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from enrichment.context.codec import to_jsonable
from enrichment.context.sections import TicketBrief


@dataclass(frozen=True, slots=True)
class Requester:
    """The person writing: who they are, their roles on the account, their
    own product use in the last 30 days, their tickets.

    ``open_tickets`` are all their open or pending tickets up to 10, newest
    first; ``recent_tickets`` their 5 newest in any state; ``tickets_total``
    and ``open_tickets_count`` count all of them."""

    email: str
    name: str = ""
    title: str = ""
    role: str = ""
    account_roles: tuple[str, ...] = ()
    customer_id: str = ""
    last_login_at: dt.datetime | None = None
    logins_30d: int = 0
    features_30d: tuple[str, ...] = ()
    tickets_total: int = 0
    open_tickets_count: int = 0
    avg_csat: float | None = None
    csat_responses: int = 0
    open_tickets: tuple[TicketBrief, ...] = ()
    recent_tickets: tuple[TicketBrief, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(self)


@dataclass(frozen=True, slots=True)
class TicketInFocus:
    """The ticket being answered. ``first_response_minutes`` is ``None``
    until someone answered; ``reopened_count`` counts the times it was reopened."""

    id: int
    subject: str
    status: str
    priority: str
    category: str
    channel: str
    created_at: dt.datetime
    updated_at: dt.datetime | None = None
    first_response_at: dt.datetime | None = None
    first_response_minutes: int | None = None
    resolved_at: dt.datetime | None = None
    reopened_count: int = 0
    csat: int | None = None
    age_hours: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(self)


@dataclass(frozen=True, slots=True)
class Conversation:
    """What a context was asked for beyond the account: the requester (by
    email or the ticket's contact) and the ticket, either may be ``None``.
    ``as_of`` is when these parts were read."""

    requester: Requester | None = None
    ticket: TicketInFocus | None = None
    as_of: dt.datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.requester is not None:
            data["requester"] = self.requester.to_dict()
        if self.ticket is not None:
            data["ticket"] = self.ticket.to_dict()
        return data


def age_hours(created_at: dt.datetime, now: dt.datetime) -> float:
    return round(max(0.0, (now - created_at).total_seconds()) / 3600, 1)


def age_phrase(created_at: dt.datetime, now: dt.datetime) -> str:
    """"35 min", "5 h", "3 d": how long ago, for a ticket list."""
    seconds = max(0, int((now - created_at).total_seconds()))
    if seconds < 3600:
        return f"{max(1, seconds // 60)} min"
    if seconds < 86400 * 2:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"
