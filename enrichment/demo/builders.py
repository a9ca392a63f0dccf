"""Plain builders for the demo seed: unsaved model rows and the random draws behind them.

Nothing here touches the database; :mod:`enrichment.demo.seed` saves what the
builders return. Every draw comes from a ``random.Random`` the caller seeds, so
the same seed always builds the same rows. Names (people, companies) come from a
second generator, separate from the one behind the numbers, so changing a word
list never changes a customer's activity.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.text import slugify

from billing.models import Invoice, InvoiceStatus, Subscription
from customers.models import Contact, Customer
from enrichment.demo.words import (
    COMPANY_NOUNS,
    COMPANY_SUFFIXES,
    COMPANY_WORDS,
    CONTACT_ROLES,
    FIRST_NAMES,
    LAST_NAMES,
    TICKET_SUBJECTS,
)
from support.models import Ticket, TicketChannel, TicketPriority

# (kind, feature, occurred_at, index of the contact in the blueprint)
Event = tuple[str, str, dt.datetime, int]

CHANNEL_WEIGHTS = {
    TicketChannel.EMAIL: 45, TicketChannel.CHAT: 30, TicketChannel.WEB: 20, TicketChannel.PHONE: 5,
}  # fmt: skip


@dataclass
class Blueprint:
    """One customer's rows, built in memory and saved in bulk (contacts referenced by index)."""

    customer: Customer
    contacts: list[Contact] = field(default_factory=list)
    subscriptions: list[Subscription] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)
    tickets: list[Ticket] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


@dataclass(frozen=True)
class Clock:
    """The one "now" a seed run is relative to."""

    now: dt.datetime
    today: dt.date

    def midnight(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def numbers_random(seed: int, external_id: str) -> random.Random:
    """The generator behind one customer's numbers, dates and choices."""
    return random.Random(f"{seed}:{external_id}")


def names_random(seed: int, external_id: str) -> random.Random:
    """The generator behind one customer's names, apart from :func:`numbers_random` so each stream is stable."""
    return random.Random(f"{seed}:{external_id}:names")


# --- random draws -----------------------------------------------------------------


def weighted(rng: random.Random, weights: Mapping[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def times_between(rng: random.Random, n: int, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    span = int((end - start).total_seconds())
    return sorted(start + dt.timedelta(seconds=rng.randint(0, span)) for _ in range(n))


def add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# --- names ------------------------------------------------------------------------


def person_name(names: random.Random) -> str:
    """``"First Last"``."""
    return f"{names.choice(FIRST_NAMES)} {names.choice(LAST_NAMES)}"


def company_name(names: random.Random) -> str:
    """``"Cole PLC"``, ``"Hayes-Novak"``, ``"Reed, Kim and Shah"`` or ``"Summit Logistics"``."""
    pattern = names.randrange(4)
    if pattern == 0:
        return f"{names.choice(LAST_NAMES)} {names.choice(COMPANY_SUFFIXES)}"
    if pattern == 1:
        return f"{names.choice(LAST_NAMES)}-{names.choice(LAST_NAMES)}"
    if pattern == 2:
        first, second, third = names.sample(LAST_NAMES, 3)
        return f"{first}, {second} and {third}"
    return f"{names.choice(COMPANY_WORDS)} {names.choice(COMPANY_NOUNS)}"


def domain_for(company: str) -> str:
    """A lower-case domain derived from a company name, e.g. ``"Smith, Lee and Co"`` -> ``smith-lee-and-co.com``."""
    slug = slugify(company)[:60].strip("-") or "example"
    return f"{slug}.com"


def email_for(name: str, domain: str, suffix: str = "") -> str:
    """A lower-case ``first.last[suffix]@domain`` address for a person's name."""
    local = slugify(name).replace("-", ".")[:50].strip(".") or "user"
    return f"{local}{suffix}@{(domain or 'example.com').lower()}".lower()


# --- rows -------------------------------------------------------------------------


def contacts_build(
    rng: random.Random,
    customer: Customer,
    n: int,
    *,
    next_name: Callable[[], str],
    first: tuple[str, str, str] | None = None,
) -> list[Contact]:
    """``n`` contacts at the customer's domain, named by ``next_name()``; ``first`` = (name, email, role)
    for a fixed person. Roles come from ``rng``; the first contact is always an admin. Job titles and
    roles on the account follow the role (:data:`ROLE_PROFILES`), drawing nothing from ``rng``."""
    contacts: list[Contact] = []
    used: set[str] = set()
    if first is not None:
        name, email, role = first
        contacts.append(contact_build(customer, name, email, role))
        used.add(email)
    while len(contacts) < n:
        name = next_name()
        email, k = email_for(name, customer.domain), 1
        while email in used:
            k += 1
            email = email_for(name, customer.domain, suffix=str(k))
        used.add(email)
        role = "admin" if not contacts else rng.choice(CONTACT_ROLES)
        contacts.append(contact_build(customer, name, email, role))
    return contacts


# A demo contact's job title and roles on the account, by their product role.
ROLE_PROFILES = {
    "admin": ("Operations Manager", ["admin", "decision_maker"]),
    "billing": ("Finance Manager", ["billing"]),
    "manager": ("Team Lead", ["champion"]),
    "developer": ("Software Engineer", ["technical"]),
    "analyst": ("Data Analyst", []),
    "member": ("", []),
}


def contact_build(customer: Customer, name: str, email: str, role: str) -> Contact:
    title, roles = ROLE_PROFILES.get(role, ("", []))
    return Contact(customer=customer, name=name, email=email, role=role, title=title, account_roles=list(roles))


def monthly_invoices_build(
    customer: Customer,
    subscription: Subscription,
    *,
    last_day: dt.date,
    keep_last: int,
    amount: Decimal,
    statuses: Callable[[int, int], str],
    rng: random.Random,
    months_step: int = 1,
) -> list[Invoice]:
    """Invoices on each billing anniversary up to ``last_day``; ``statuses(index_from_newest, total)``."""
    dates: list[dt.date] = []
    k = 0
    while (issued := add_months(subscription.started_at, k * months_step)) <= last_day:
        dates.append(issued)
        k += 1
    offset = len(dates) - len(dates[-keep_last:])
    dates = dates[-keep_last:]
    invoices = []
    for i, issued in enumerate(dates):
        status = statuses(len(dates) - 1 - i, len(dates))
        invoices.append(
            Invoice(
                customer=customer,
                subscription=subscription,
                number=f"INV-{customer.external_id}-{offset + i + 1:04d}",
                amount=amount,
                status=status,
                issued_at=issued,
                due_at=issued + dt.timedelta(days=14),
                paid_at=issued + dt.timedelta(days=rng.randint(0, 5)) if status == InvoiceStatus.PAID else None,
            )
        )
    return invoices


def ticket_build(
    rng: random.Random,
    clock: Clock,
    customer: Customer,
    contact: Contact,
    *,
    subject: str,
    category: str,
    created_at: dt.datetime,
    status: str,
    priority: str = TicketPriority.NORMAL,
    csat: int | None = None,
    first_response_minutes: int | None = 60,
    resolution_hours: float | None = None,
) -> Ticket:
    """A ticket with a channel drawn from ``CHANNEL_WEIGHTS``; response and resolution never in the future."""
    first_response_at = None
    if first_response_minutes is not None:
        first_response_at = min(created_at + dt.timedelta(minutes=first_response_minutes), clock.now)
    resolved_at = None
    if resolution_hours is not None:
        resolved_at = min(created_at + dt.timedelta(hours=resolution_hours), clock.now - dt.timedelta(minutes=5))
    return Ticket(
        customer=customer,
        contact=contact,
        subject=subject,
        channel=weighted(rng, CHANNEL_WEIGHTS),
        status=status,
        priority=priority,
        category=category,
        created_at=created_at,
        first_response_at=first_response_at,
        resolved_at=resolved_at,
        csat=csat,
        assignee=None,
        updated_at=max(t for t in (created_at, first_response_at, resolved_at) if t is not None),
    )


def ticket_subject(rng: random.Random, category: str, features: Sequence[str]) -> str:
    template = rng.choice(TICKET_SUBJECTS[category])
    return template.format(feature=rng.choice(features) if features else "projects")
