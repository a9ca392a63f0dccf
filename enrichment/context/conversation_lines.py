"""The prompt lines about the conversation: who is asking, the ticket being
answered, and the account's open tickets. Shared by the internal block
(:mod:`enrichment.context.prompt`) and the customer-facing one
(:mod:`enrichment.context.customer_view`), so both name tickets alike.

Names, titles and subjects are customer text: each goes through
:func:`~enrichment.context.safe_text.safe_text` here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from customers.models import ACCOUNT_ROLES
from enrichment.context.requester import Requester, TicketInFocus, age_phrase
from enrichment.context.safe_text import safe_text
from enrichment.context.sections import TicketBrief

MAX_OPEN_TICKETS = 5
SUBJECT_LIMIT = 100


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def ticket_line(ticket: TicketBrief, *, now: dt.datetime, priority: bool = True) -> str:
    """``#981 “Cannot export report” (open, urgent, 2 d)``."""
    facts = [safe_text(ticket.status, limit=20)]
    if priority:
        facts.append(safe_text(ticket.priority, limit=20))
    facts.append(age_phrase(ticket.created_at, now))
    return f"#{ticket.id} “{safe_text(ticket.subject, limit=SUBJECT_LIMIT)}” ({', '.join(facts)})"


def open_ticket_lines(tickets: Sequence[TicketBrief], total: int, *, now: dt.datetime, priority: bool = True) -> list[str]:
    """The "Open tickets:" part: newest first, at most :data:`MAX_OPEN_TICKETS`,
    and how many more there are. Empty without open tickets."""
    if not tickets:
        return []
    shown = tickets[:MAX_OPEN_TICKETS]
    lines = ["", "Open tickets:", *(f"- {ticket_line(t, now=now, priority=priority)}" for t in shown)]
    if total > len(shown):
        lines.append(f"- and {total - len(shown)} more")
    return lines


def roles_phrase(codes: Sequence[str]) -> str:
    return ", ".join(ACCOUNT_ROLES.get(code, safe_text(code, limit=30)).lower() for code in codes)


def requester_lines(req: Requester, *, now: dt.datetime, internal: bool = True) -> list[str]:
    """The "Requester:" part. ``internal`` adds their product use; the
    customer-facing block keeps to who they are and their own tickets."""
    who = safe_text(req.name, limit=80) or "Name not on file"
    head = f"- {who} ({safe_text(req.email, limit=120)})"
    if req.title:
        head += f", {safe_text(req.title, limit=80)}"
    lines = ["", "Requester:", head]
    if req.account_roles:
        lines.append(f"- Roles on the account: {roles_phrase(req.account_roles)}")
    if internal:
        last = req.last_login_at.strftime("%Y-%m-%d %H:%M UTC") if req.last_login_at else "none recorded"
        use = f"- Their last login: {last}; {_plural(req.logins_30d, 'login')} in the last 30 days"
        if req.features_30d:
            use += "; uses " + ", ".join(safe_text(f.replace("_", " "), limit=40).title() for f in req.features_30d[:3])
        lines.append(use)
        csat = f"; their average CSAT {req.avg_csat:.1f}/5" if req.avg_csat is not None else ""
        lines.append(f"- Their tickets: {req.tickets_total} in all, {req.open_tickets_count} open{csat}")
    for ticket in req.open_tickets[:3]:
        lines.append(f"- Their open ticket: {ticket_line(ticket, now=now, priority=internal)}")
    return lines


def ticket_focus_lines(ticket: TicketInFocus, *, now: dt.datetime, internal: bool = True) -> list[str]:
    """The "Ticket being answered:" part (never dropped from the block)."""
    facts = [safe_text(ticket.status, limit=20)]
    if internal:
        facts.append(f"{safe_text(ticket.priority, limit=20)} priority")
        if ticket.category:
            facts.append(safe_text(ticket.category.replace("_", " "), limit=40))
    facts.append(f"via {safe_text(ticket.channel, limit=20)}")
    lines = [
        "",
        "Ticket being answered:",
        f"- #{ticket.id} “{safe_text(ticket.subject, limit=160)}” ({', '.join(facts)})",
        f"- Opened: {ticket.created_at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC ({age_phrase(ticket.created_at, now)} ago)",
    ]
    if internal:
        if ticket.first_response_minutes is None:
            lines.append("- First response: not yet")
        else:
            lines.append(f"- First response: after {_duration(ticket.first_response_minutes)}")
        if ticket.reopened_count:
            lines.append(f"- Reopened: {_plural(ticket.reopened_count, 'time')}")
    return lines


def _duration(minutes: int) -> str:
    if minutes < 120:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // 1440} d"


def as_of_line(when: dt.datetime | None) -> str:
    """``As of: 2026-12-02 14:03 UTC``: when the figures were read."""
    return f"As of: {when.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC" if when else "As of: unknown"
