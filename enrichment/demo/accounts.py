"""The three fixed demo accounts, built in memory (the golden prompt tests depend on their facts).

* ``customer_123``: Acme Corp, a healthy premium account (the seed document's example);
* ``customer_at_risk``: Globex Industries, past due with a login drop and urgent tickets;
* ``customer_trial``: Initech, a premium trial ending in five days.

Each builder takes the account's generator
(:func:`~enrichment.demo.builders.numbers_random`) and draws from it in a fixed
order, so an account is the same for a given seed. Their people are a fixed cast
(the names the seed has always given them with its default seed, 42).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal

from billing.models import BillingCycle, InvoiceStatus, Plan, Subscription, SubscriptionStatus
from customers.models import Contact, Customer, EngagementKind
from enrichment.demo.activity import daily_activity, events_between, steady
from enrichment.demo.builders import (
    Blueprint,
    Clock,
    Event,
    contact_build,
    contacts_build,
    monthly_invoices_build,
    ticket_build,
    ticket_subject,
    times_between,
)
from support.models import Ticket, TicketPriority, TicketStatus

AccountBuilder = Callable[[Clock, Mapping[str, Plan], random.Random], Blueprint]

ACME_PEOPLE = ("Jeffrey Vaughan", "Tami Gonzalez", "Teresa Houston", "James Ortiz", "Martha Gonzales", "Meagan Pugh", "Jill Hill")
GLOBEX_PEOPLE = ("Tyler Perez", "Edward Brown", "Lisa Kemp", "Aaron Patterson", "Amanda Harvey")


def _acme(clock: Clock, plans: Mapping[str, Plan], rng: random.Random) -> Blueprint:
    today = clock.today
    since = today - dt.timedelta(days=152)
    customer = Customer(
        external_id="customer_123",
        company_name="Acme Corp",
        domain="acme.com",
        industry="Technology",
        region="us",
        account_owner="Dana Whitfield",
        customer_since=since,
    )
    bp = Blueprint(customer=customer)
    bp.contacts = contacts_build(rng, customer, 8, next_name=iter(ACME_PEOPLE).__next__, first=("Jane Doe", "jane@acme.com", "admin"))
    bp.contacts[0].title = "Head of Operations"
    sub = Subscription(
        customer=customer,
        plan=plans["premium"],
        status=SubscriptionStatus.ACTIVE,
        billing_cycle=BillingCycle.MONTHLY,
        seats_purchased=10,
        seats_used=8,
        mrr=Decimal("250.00"),
        started_at=since,
        renewal_date=today + dt.timedelta(days=28),
        trial_ends_at=None,
        canceled_at=None,
    )
    bp.subscriptions = [sub]
    bp.invoices = monthly_invoices_build(
        customer,
        sub,
        last_day=today,
        keep_last=5,
        amount=Decimal("250.00"),
        statuses=lambda _i, _n: InvoiceStatus.PAID,
        rng=rng,
    )
    bp.events = _acme_events(rng, clock, since, len(bp.contacts))
    bp.tickets = _acme_tickets(rng, clock, customer, bp.contacts)
    return bp


def _acme_events(rng: random.Random, clock: Clock, since: dt.date, n: int) -> list[Event]:
    """45 logins and a steady feature mix in the last 30 days, 40 logins in the 30 before, then a daily rhythm."""
    now = clock.now
    last_login = (now - dt.timedelta(hours=2)).replace(second=0, microsecond=0)
    events: list[Event] = [(EngagementKind.LOGIN, "", last_login, 0)]
    events += events_between(rng, {"login": 44}, now - dt.timedelta(days=29), now - dt.timedelta(hours=3), n)
    events += events_between(
        rng,
        {"projects": 60, "tasks": 45, "reports": 30, "dashboards": 8},
        now - dt.timedelta(days=29),
        now - dt.timedelta(hours=1),
        n,
    )
    events += events_between(
        rng,
        {"login": 40, "projects": 55, "tasks": 42, "reports": 27, "dashboards": 10},
        now - dt.timedelta(days=59),
        now - dt.timedelta(days=30, hours=1),
        n,
    )
    events += daily_activity(
        rng,
        clock,
        days_ago=range(61, 153),
        since=since,
        login_rate=1.15,
        feature_ratio=3.0,
        trend=steady,
        feature_weights={"projects": 6, "tasks": 5, "reports": 3, "dashboards": 1},
        n_contacts=n,
        upper=now - dt.timedelta(days=61),
    )
    return events


def _acme_tickets(rng: random.Random, clock: Clock, customer: Customer, contacts: Sequence[Contact]) -> list[Ticket]:
    """Eleven solved tickets with CSAT 4-5 (average 4.5) and one open how-to question."""
    now, n = clock.now, len(contacts)
    tickets = []
    csats = [5, 5, 5, 5, 5, 4, 4, 4, 4, 4, None]
    categories = ["how_to", "how_to", "feature_request", "bug", "billing", "how_to",
                  "account", "feature_request", "bug", "how_to", "account"]  # fmt: skip
    features = ["projects", "tasks", "reports", "dashboards"]
    for i, (csat, category) in enumerate(zip(csats, categories, strict=True)):
        created_at = now - dt.timedelta(days=140 - i * 12, hours=rng.randint(0, 8))
        tickets.append(
            ticket_build(
                rng, clock, customer, contacts[rng.randrange(n)],
                subject=ticket_subject(rng, category, features), category=category, created_at=created_at,
                status=TicketStatus.SOLVED,
                priority=rng.choice(
                    [TicketPriority.LOW, TicketPriority.NORMAL, TicketPriority.NORMAL, TicketPriority.HIGH]
                ),
                csat=csat, first_response_minutes=rng.randint(50, 70), resolution_hours=rng.randint(3, 30),
            )
        )  # fmt: skip
    tickets.append(
        ticket_build(
            rng, clock, customer, contacts[0],
            subject="How do I export a project timeline to PDF?", category="how_to",
            created_at=now - dt.timedelta(days=2), status=TicketStatus.OPEN,
            priority=TicketPriority.NORMAL, first_response_minutes=60,
        )
    )  # fmt: skip
    return tickets


def _globex(clock: Clock, plans: Mapping[str, Plan], rng: random.Random) -> Blueprint:
    today = clock.today
    since = today - dt.timedelta(days=730)
    customer = Customer(
        external_id="customer_at_risk",
        company_name="Globex Industries",
        domain="globex.com",
        industry="Manufacturing",
        region="eu",
        account_owner="Marcus Lee",
        customer_since=since,
    )
    bp = Blueprint(customer=customer)
    bp.contacts = contacts_build(
        rng,
        customer,
        6,
        next_name=iter(GLOBEX_PEOPLE).__next__,
        first=("Hank Scorpio", "hank.scorpio@globex.com", "admin"),
    )
    sub = Subscription(
        customer=customer,
        plan=plans["professional"],
        status=SubscriptionStatus.PAST_DUE,
        billing_cycle=BillingCycle.MONTHLY,
        seats_purchased=25,
        seats_used=9,
        mrr=Decimal("1125.00"),
        started_at=since,
        renewal_date=today + dt.timedelta(days=12),
        trial_ends_at=None,
        canceled_at=None,
    )
    bp.subscriptions = [sub]
    bp.invoices = monthly_invoices_build(
        customer,
        sub,
        last_day=today,
        keep_last=12,
        amount=Decimal("1125.00"),
        statuses=lambda i, _n: InvoiceStatus.FAILED if i == 0 else InvoiceStatus.PAID,
        rng=rng,
    )
    bp.events = _globex_events(rng, clock, since, len(bp.contacts))
    bp.tickets = _globex_tickets(rng, clock, customer, bp.contacts)
    return bp


def _globex_events(rng: random.Random, clock: Clock, since: dt.date, n: int) -> list[Event]:
    """Busy until two months ago, 80 logins in the 30 days before the last 30, then 10 and silence for 9 days;
    export errors over its last two weeks of use."""
    now = clock.now
    last_login = (now - dt.timedelta(days=9)).replace(second=0, microsecond=0)
    events: list[Event] = [(EngagementKind.LOGIN, "", last_login, 0)]
    events += events_between(rng, {"login": 9}, now - dt.timedelta(days=29), last_login - dt.timedelta(hours=1), n)
    events += events_between(rng, {"exports": 8, "reports": 5, "projects": 3}, now - dt.timedelta(days=29), last_login, n)
    events += events_between(
        rng,
        {"login": 80, "exports": 60, "reports": 40, "projects": 30, "integrations": 15},
        now - dt.timedelta(days=59),
        now - dt.timedelta(days=30, hours=1),
        n,
    )
    events += daily_activity(
        rng,
        clock,
        days_ago=range(61, 121),
        since=since,
        login_rate=3.2,
        feature_ratio=1.8,
        trend=steady,
        feature_weights={"exports": 5, "reports": 4, "projects": 3, "integrations": 2},
        n_contacts=n,
        upper=now - dt.timedelta(days=61),
    )
    # The failing exports and empty reports of its urgent tickets show as errors over its last two weeks
    # of use (a generator of its own, so the other accounts' draws stay as they were).
    errors = random.Random(f"globex-errors-{since.isoformat()}")
    events += [(EngagementKind.ERROR, "exports", t, errors.randrange(n))
               for t in times_between(errors, 20, last_login - dt.timedelta(days=14), last_login)]  # fmt: skip
    return events


def _globex_tickets(rng: random.Random, clock: Clock, customer: Customer, contacts: Sequence[Contact]) -> list[Ticket]:
    """Two open urgent bugs (one not answered yet) and four solved tickets with CSAT 1-2."""
    now, n = clock.now, len(contacts)
    tickets = [
        ticket_build(
            rng, clock, customer, contacts[0],
            subject="Data export failing since Monday", category="bug",
            created_at=now - dt.timedelta(days=4, hours=3), status=TicketStatus.OPEN,
            priority=TicketPriority.URGENT, first_response_minutes=190,
        ),
        ticket_build(
            rng, clock, customer, contacts[1],
            subject="Scheduled reports arrive empty", category="bug",
            created_at=now - dt.timedelta(days=1, hours=6), status=TicketStatus.OPEN,
            priority=TicketPriority.URGENT, first_response_minutes=None,
        ),
    ]  # fmt: skip
    solved = [(1, "bug", "Exports time out for large projects"), (2, "billing", "Card declined on renewal"),
              (2, "bug", "Integrations sync keeps dropping records"), (1, "account", "SSO login problems")]  # fmt: skip
    for i, (csat, category, subject) in enumerate(solved):
        created_at = now - dt.timedelta(days=85 - i * 18, hours=rng.randint(0, 8))
        tickets.append(
            ticket_build(
                rng, clock, customer, contacts[rng.randrange(n)],
                subject=subject, category=category, created_at=created_at, status=TicketStatus.SOLVED,
                priority=TicketPriority.HIGH, csat=csat,
                first_response_minutes=rng.randint(120, 600), resolution_hours=rng.randint(30, 120),
            )
        )  # fmt: skip
    return tickets


def _initech(clock: Clock, plans: Mapping[str, Plan], rng: random.Random) -> Blueprint:
    today, now = clock.today, clock.now
    since = today - dt.timedelta(days=10)
    trial_end = today + dt.timedelta(days=5)
    customer = Customer(
        external_id="customer_trial",
        company_name="Initech",
        domain="initech.com",
        industry="Software",
        region="us",
        account_owner="Priya Raman",
        customer_since=since,
    )
    bp = Blueprint(customer=customer)
    bp.contacts = [
        contact_build(customer, name, email, role)
        for name, email, role in (
            ("Bill Lumbergh", "bill.lumbergh@initech.com", "admin"),
            ("Peter Gibbons", "peter.gibbons@initech.com", "member"),
            ("Samir Nagheenanajar", "samir.nagheenanajar@initech.com", "developer"),
        )
    ]
    bp.subscriptions = [
        Subscription(
            customer=customer, plan=plans["premium"], status=SubscriptionStatus.TRIALING,
            billing_cycle=BillingCycle.MONTHLY, seats_purchased=5, seats_used=3, mrr=Decimal("0.00"),
            started_at=since, renewal_date=trial_end, trial_ends_at=trial_end, canceled_at=None,
        )
    ]  # fmt: skip
    bp.events = daily_activity(
        rng,
        clock,
        days_ago=range(0, 11),
        since=since,
        login_rate=2.5,
        feature_ratio=2.0,
        trend=steady,
        feature_weights={"projects": 5, "tasks": 4, "dashboards": 2, "integrations": 1},
        n_contacts=len(bp.contacts),
    )
    bp.tickets.append(
        ticket_build(
            rng, clock, customer, bp.contacts[0],
            subject="How do I invite my team?", category="how_to",
            created_at=now - dt.timedelta(days=8, hours=2), status=TicketStatus.SOLVED,
            csat=5, first_response_minutes=25, resolution_hours=2,
        )
    )  # fmt: skip
    return bp


# external_id -> builder, in the order the seed creates them.
FIXED_ACCOUNTS: Mapping[str, AccountBuilder] = {
    "customer_123": _acme,
    "customer_at_risk": _globex,
    "customer_trial": _initech,
}
