"""Realistic, deterministic demo data: three fixed accounts plus N generated customers.

Everything is relative to "now". Generated customers are ``cust_000001`` ... and
each one is drawn from its own ``random.Random`` seeded with ``(seed, external_id)``,
so a customer's data does not depend on how many others are generated, and a
second run only adds customers that are missing.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from faker import Faker

from billing.factories import PLAN_CATALOG, InvoiceFactory, PlanFactory, SubscriptionFactory
from billing.models import BillingCycle, Invoice, InvoiceStatus, Plan, Subscription, SubscriptionStatus
from customers.factories import INDUSTRIES, ContactFactory, CustomerFactory, domain_for, email_for
from customers.models import Contact, Customer, EngagementEvent, EngagementKind
from customers.services import engagement_rollup_rebuild
from support.factories import IncidentFactory, TicketFactory
from support.models import (
    Incident,
    IncidentImpact,
    IncidentStatus,
    Ticket,
    TicketChannel,
    TicketPriority,
    TicketStatus,
)

GENERATED_PREFIX = "cust_"
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin"
FIXED_EXTERNAL_IDS = ("customer_123", "customer_at_risk", "customer_trial")

HEALTHY = "healthy"
GROWING = "growing"
DECLINING = "declining"
AT_RISK = "at_risk"
TRIALING = "trialing"
PAST_DUE = "past_due"
CHURNED = "churned"
# Customer i gets ARCHETYPE_PATTERN[(i - 1) % 20]: 35 % healthy, 15 % growing and
# 10 % each of the others, with every archetype present among the first seven.
ARCHETYPE_PATTERN = (
    HEALTHY, AT_RISK, GROWING, CHURNED, TRIALING, DECLINING, PAST_DUE,
    HEALTHY, HEALTHY, GROWING, HEALTHY, AT_RISK, CHURNED, HEALTHY,
    GROWING, TRIALING, DECLINING, PAST_DUE, HEALTHY, HEALTHY,
)  # fmt: skip

ACCOUNT_OWNERS = ("Dana Whitfield", "Marcus Lee", "Priya Raman", "Tom Becker", "Sofia Alvarez", "Kenji Mori")
REGION_WEIGHTS = {"us": 50, "eu": 35, "apac": 15}
PLAN_WEIGHTS = {"starter": 30, "professional": 35, "premium": 22, "enterprise": 13}
SEAT_RANGES = {"starter": (2, 10), "professional": (5, 40), "premium": (10, 80), "enterprise": (50, 300)}
FEATURE_POPULARITY = {
    "projects": 10, "tasks": 9, "reports": 7, "dashboards": 6,
    "integrations": 4, "automations": 3, "api": 3, "exports": 3,
}  # fmt: skip
CONTACT_ROLES = ("admin", "billing", "manager", "member", "member", "developer", "analyst", "member")
CHANNEL_WEIGHTS = {
    TicketChannel.EMAIL: 45, TicketChannel.CHAT: 30, TicketChannel.WEB: 20, TicketChannel.PHONE: 5,
}  # fmt: skip
SUBJECTS = {
    "billing": (
        "Question about our latest invoice",
        "Card declined on renewal",
        "Need a VAT number on invoices",
        "Charged for more seats than we use",
        "How do I switch to annual billing?",
    ),
    "bug": (
        "{feature} page shows an error",
        "{feature} not loading since this morning",
        "Data export failing for large {feature}",
        "Sync with {feature} stopped working",
        "Wrong totals in {feature}",
    ),
    "how_to": (
        "How do I share {feature} with a client?",
        "How can I bulk-edit {feature}?",
        "Setting up permissions for {feature}",
        "Best way to organise {feature}?",
        "How do I invite my team?",
    ),
    "feature_request": (
        "Request: custom fields in {feature}",
        "Can {feature} support recurring items?",
        "Dark mode for {feature}",
        "Request: more filters in {feature}",
    ),
    "account": (
        "Add a new admin to our account",
        "Reset two-factor authentication",
        "Change the account owner",
        "SSO login problems",
    ),
}
_CSAT_WEIGHTS = {
    HEALTHY: (0, 0, 1, 3, 6),
    GROWING: (0, 0, 1, 3, 6),
    TRIALING: (0, 0, 1, 3, 4),
    DECLINING: (1, 2, 3, 3, 1),
    PAST_DUE: (1, 2, 3, 3, 1),
    AT_RISK: (3, 3, 2, 1, 0),
    CHURNED: (3, 3, 2, 1, 1),
}
_CATEGORY_WEIGHTS = {
    PAST_DUE: {"billing": 50, "how_to": 20, "bug": 15, "account": 10, "feature_request": 5},
    AT_RISK: {"bug": 50, "billing": 15, "how_to": 15, "account": 10, "feature_request": 10},
    TRIALING: {"how_to": 60, "account": 20, "bug": 10, "feature_request": 10, "billing": 0},
    CHURNED: {"bug": 35, "billing": 30, "how_to": 15, "account": 10, "feature_request": 10},
}
_DEFAULT_CATEGORY_WEIGHTS = {"how_to": 30, "bug": 25, "feature_request": 15, "billing": 15, "account": 15}

# (kind, feature, occurred_at, index of the contact in the blueprint)
_Event = tuple[str, str, dt.datetime, int]


@dataclass(frozen=True)
class DemoSeedResult:
    """What one ``demo_seed`` run created (zeros when everything already existed)."""

    customers_created: int
    customers_existing: int
    fixed_accounts_created: tuple[str, ...]
    contacts: int
    subscriptions: int
    invoices: int
    tickets: int
    events: int
    rollup_rows: int
    plans_created: int
    incidents_created: int
    admin_created: bool


@dataclass
class _Blueprint:
    customer: Customer
    contacts: list[Contact] = field(default_factory=list)
    subscriptions: list[Subscription] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)
    tickets: list[Ticket] = field(default_factory=list)
    events: list[_Event] = field(default_factory=list)


@dataclass(frozen=True)
class _Clock:
    now: dt.datetime
    today: dt.date

    def midnight(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


# --- public entry point -------------------------------------------------------


def demo_seed(*, customers: int = 200, seed: int = 42) -> DemoSeedResult:
    """Create the demo data set: plans, the three fixed accounts, ``customers``
    generated customers, incidents and the ``admin``/``admin`` superuser.

    Idempotent: fixed accounts, incidents and the admin are created only when
    missing, generated customers only for the ``cust_NNNNNN`` ids not present yet;
    nothing existing is modified (an existing user's password is never reset).
    Deterministic for a given ``seed`` apart from times, which are relative to now.
    Events are bulk-inserted and the daily rollup is rebuilt once at the end.
    """
    if customers < 0:
        raise ValueError("customers must be >= 0")
    now = timezone.now()
    clock = _Clock(now=now, today=now.date())
    with transaction.atomic():
        plans, plans_created = _ensure_plans()
        blueprints = _fixed_blueprints(clock, plans, seed)
        fixed_created = tuple(bp.customer.external_id for bp in blueprints)
        generated, existing = _generated_blueprints(clock, plans, seed, customers)
        blueprints.extend(generated)
        counts = _save(blueprints)
        incidents_created = _ensure_incidents(clock)
        admin_created = _ensure_admin()
    return DemoSeedResult(
        customers_created=len(blueprints),
        customers_existing=existing,
        fixed_accounts_created=fixed_created,
        contacts=counts["contacts"],
        subscriptions=counts["subscriptions"],
        invoices=counts["invoices"],
        tickets=counts["tickets"],
        events=counts["events"],
        rollup_rows=counts["rollup_rows"],
        plans_created=plans_created,
        incidents_created=incidents_created,
        admin_created=admin_created,
    )


# --- shared helpers -------------------------------------------------------------


def _ensure_plans() -> tuple[dict[str, Plan], int]:
    existing = set(Plan.objects.filter(code__in=PLAN_CATALOG).values_list("code", flat=True))
    plans = {code: PlanFactory(code=code) for code in PLAN_CATALOG}
    return plans, len(PLAN_CATALOG) - len(existing)


def _ensure_incidents(clock: _Clock) -> int:
    now = clock.now
    wanted = [
        {
            "title": "Elevated API error rates",
            "impact": IncidentImpact.MAJOR,
            "status": IncidentStatus.RESOLVED,
            "components": ["api", "integrations"],
            "started_at": now - dt.timedelta(days=21, hours=3),
            "resolved_at": now - dt.timedelta(days=21),
        },
        {
            "title": "Delayed email notifications in the EU region",
            "impact": IncidentImpact.MINOR,
            "status": IncidentStatus.RESOLVED,
            "components": ["automations"],
            "affected_regions": ["eu"],
            "started_at": now - dt.timedelta(days=6, hours=2),
            "resolved_at": now - dt.timedelta(days=6, minutes=30),
        },
        {
            "title": "Reports loading slowly for Enterprise workspaces",
            "impact": IncidentImpact.MINOR,
            "status": IncidentStatus.IDENTIFIED,
            "components": ["reports"],
            "affected_plans": ["enterprise"],
            "started_at": now - dt.timedelta(minutes=40),
            "resolved_at": None,
        },
    ]
    titles = set(Incident.objects.filter(title__in=[w["title"] for w in wanted]).values_list("title", flat=True))
    created = 0
    for values in wanted:
        if values["title"] not in titles:
            IncidentFactory(**values)
            created += 1
    return created


def _ensure_admin() -> bool:
    user_model = get_user_model()
    if user_model._default_manager.filter(username=ADMIN_USERNAME).exists():
        return False
    user_model._default_manager.create_superuser(ADMIN_USERNAME, "admin@example.com", ADMIN_PASSWORD)
    return True


def _save(blueprints: Sequence[_Blueprint]) -> dict[str, int]:
    """Bulk-insert every blueprint, parents first (primary keys come back from the insert)."""
    Customer.objects.bulk_create([bp.customer for bp in blueprints if bp.customer.pk is None], batch_size=500)
    contacts = [c for bp in blueprints for c in bp.contacts]
    subscriptions = [s for bp in blueprints for s in bp.subscriptions]
    invoices = [i for bp in blueprints for i in bp.invoices]
    tickets = [t for bp in blueprints for t in bp.tickets]
    Contact.objects.bulk_create(contacts, batch_size=1000)
    Subscription.objects.bulk_create(subscriptions, batch_size=1000)
    Invoice.objects.bulk_create(invoices, batch_size=1000)
    Ticket.objects.bulk_create(tickets, batch_size=1000)

    events = 0
    chunk: list[EngagementEvent] = []
    for bp in blueprints:
        customer_id = bp.customer.pk
        contact_ids = [c.pk for c in bp.contacts]
        chunk.extend(
            EngagementEvent(
                customer_id=customer_id,
                contact_id=contact_ids[idx] if contact_ids else None,
                kind=kind,
                feature=feature,
                occurred_at=occurred_at,
            )
            for kind, feature, occurred_at, idx in bp.events
        )
        if len(chunk) >= 20_000:
            EngagementEvent.objects.bulk_create(chunk, batch_size=5000)
            events += len(chunk)
            chunk = []
    EngagementEvent.objects.bulk_create(chunk, batch_size=5000)
    events += len(chunk)

    rollup_rows = engagement_rollup_rebuild(customer_ids=[bp.customer.pk for bp in blueprints])
    return {
        "contacts": len(contacts),
        "subscriptions": len(subscriptions),
        "invoices": len(invoices),
        "tickets": len(tickets),
        "events": events,
        "rollup_rows": rollup_rows,
    }


def _add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _poisson(rng: random.Random, lam: float) -> int:
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


def _times_between(rng: random.Random, n: int, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    span = int((end - start).total_seconds())
    return sorted(start + dt.timedelta(seconds=rng.randint(0, span)) for _ in range(n))


def _events_between(
    rng: random.Random,
    counts: dict[str, int],
    start: dt.datetime,
    end: dt.datetime,
    n_contacts: int,
) -> list[_Event]:
    """Exactly ``counts[key]`` events in [start, end]; key ``"login"`` or a feature name."""
    events: list[_Event] = []
    for key, n in counts.items():
        kind, feature = (EngagementKind.LOGIN, "") if key == "login" else (EngagementKind.FEATURE_USE, key)
        events.extend((kind, feature, t, rng.randrange(n_contacts)) for t in _times_between(rng, n, start, end))
    return events


def _daily_activity(
    rng: random.Random,
    clock: _Clock,
    *,
    days_ago: range,
    since: dt.date,
    login_rate: float,
    feature_ratio: float,
    trend: Callable[[int], float],
    feature_weights: dict[str, float],
    n_contacts: int,
    upper: dt.datetime | None = None,
) -> list[_Event]:
    """Poisson logins and feature uses per day, shaped by ``trend(days_ago)``; quieter at weekends."""
    events: list[_Event] = []
    since_dt = clock.midnight(since)
    upper = upper or clock.now - dt.timedelta(hours=1)
    features = list(feature_weights)
    weights = [feature_weights[f] for f in features]
    for d in days_ago:
        anchor = clock.now - dt.timedelta(days=d, hours=1)
        weekday_factor = 0.35 if anchor.weekday() >= 5 else 1.0
        lam = login_rate * trend(d) * weekday_factor
        if lam <= 0:
            continue
        logins = _poisson(rng, lam)
        uses = _poisson(rng, lam * feature_ratio) if features else 0
        for i in range(logins + uses):
            occurred_at = anchor - dt.timedelta(seconds=rng.randint(0, 23 * 3600))
            if occurred_at < since_dt or occurred_at > upper:
                continue
            if i < logins:
                events.append((EngagementKind.LOGIN, "", occurred_at, rng.randrange(n_contacts)))
            else:
                feature = rng.choices(features, weights=weights)[0]
                events.append((EngagementKind.FEATURE_USE, feature, occurred_at, rng.randrange(n_contacts)))
    return events


def _contacts(
    rng: random.Random, fake: Faker, customer: Customer, n: int, first: tuple[str, str, str] | None = None
) -> list[Contact]:
    """``n`` contacts at the customer's domain; ``first`` = (name, email, role) for a fixed person."""
    contacts: list[Contact] = []
    used: set[str] = set()
    if first is not None:
        name, email, role = first
        contacts.append(ContactFactory.build(customer=customer, name=name, email=email, role=role))
        used.add(email)
    while len(contacts) < n:
        name = f"{fake.first_name()} {fake.last_name()}"
        email, k = email_for(name, customer.domain), 1
        while email in used:
            k += 1
            email = email_for(name, customer.domain, suffix=str(k))
        used.add(email)
        role = "admin" if not contacts else rng.choice(CONTACT_ROLES)
        contacts.append(ContactFactory.build(customer=customer, name=name, email=email, role=role))
    return contacts


def _monthly_invoices(
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
    while (issued := _add_months(subscription.started_at, k * months_step)) <= last_day:
        dates.append(issued)
        k += 1
    offset = len(dates) - len(dates[-keep_last:])
    dates = dates[-keep_last:]
    invoices = []
    for i, issued in enumerate(dates):
        status = statuses(len(dates) - 1 - i, len(dates))
        invoices.append(
            InvoiceFactory.build(
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


def _ticket(
    rng: random.Random,
    clock: _Clock,
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
    first_response_at = None
    if first_response_minutes is not None:
        first_response_at = min(created_at + dt.timedelta(minutes=first_response_minutes), clock.now)
    resolved_at = None
    if resolution_hours is not None:
        resolved_at = min(created_at + dt.timedelta(hours=resolution_hours), clock.now - dt.timedelta(minutes=5))
    return TicketFactory.build(
        customer=customer,
        contact=contact,
        subject=subject,
        channel=_weighted(rng, CHANNEL_WEIGHTS),
        status=status,
        priority=priority,
        category=category,
        created_at=created_at,
        first_response_at=first_response_at,
        resolved_at=resolved_at,
        csat=csat,
        assignee=None,
    )


def _subject(rng: random.Random, category: str, features: Sequence[str]) -> str:
    template = rng.choice(SUBJECTS[category])
    return template.format(feature=rng.choice(features) if features else "projects")


def _rng_for(seed: int, external_id: str) -> tuple[random.Random, Faker]:
    fake = _faker()
    fake.seed_instance(f"{seed}:{external_id}")
    return random.Random(f"{seed}:{external_id}"), fake


@functools.cache
def _faker() -> Faker:
    # Building a Faker is slow; one instance is reseeded per customer.
    return Faker("en_US")


# --- fixed accounts ---------------------------------------------------------------


def _fixed_blueprints(clock: _Clock, plans: dict[str, Plan], seed: int) -> list[_Blueprint]:
    builders = {
        "customer_123": _acme,
        "customer_at_risk": _globex,
        "customer_trial": _initech,
    }
    blueprints = []
    for external_id, builder in builders.items():
        rng, fake = _rng_for(seed, external_id)
        blueprint = builder(clock, plans, rng, fake)
        customer, created = Customer.objects.get_or_create(
            external_id=external_id,
            defaults={
                f.attname: getattr(blueprint.customer, f.attname)
                for f in Customer._meta.concrete_fields
                if not f.primary_key and f.name not in ("external_id", "created_at", "updated_at")
            },
        )
        if created:
            blueprint.customer.pk = customer.pk
            blueprint.customer._state.adding = False
            blueprint.customer._state.db = customer._state.db
            blueprints.append(blueprint)
    return blueprints


def _fixed_customer(external_id: str, **values: object) -> Customer:
    return CustomerFactory.build(external_id=external_id, **values)


def _acme(clock: _Clock, plans: dict[str, Plan], rng: random.Random, fake: Faker) -> _Blueprint:
    today, now = clock.today, clock.now
    since = today - dt.timedelta(days=152)
    customer = _fixed_customer(
        "customer_123",
        company_name="Acme Corp",
        domain="acme.com",
        industry="Technology",
        region="us",
        account_owner="Dana Whitfield",
        customer_since=since,
    )
    bp = _Blueprint(customer=customer)
    bp.contacts = _contacts(rng, fake, customer, 8, first=("Jane Doe", "jane@acme.com", "admin"))
    sub = SubscriptionFactory.build(
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
    bp.invoices = _monthly_invoices(
        customer,
        sub,
        last_day=today,
        keep_last=5,
        amount=Decimal("250.00"),
        statuses=lambda _i, _n: InvoiceStatus.PAID,
        rng=rng,
    )

    n = len(bp.contacts)
    last_login = (now - dt.timedelta(hours=2)).replace(second=0, microsecond=0)
    bp.events = [(EngagementKind.LOGIN, "", last_login, 0)]
    bp.events += _events_between(rng, {"login": 44}, now - dt.timedelta(days=29), now - dt.timedelta(hours=3), n)
    bp.events += _events_between(
        rng,
        {"projects": 60, "tasks": 45, "reports": 30, "dashboards": 8},
        now - dt.timedelta(days=29),
        now - dt.timedelta(hours=1),
        n,
    )
    bp.events += _events_between(
        rng,
        {"login": 40, "projects": 55, "tasks": 42, "reports": 27, "dashboards": 10},
        now - dt.timedelta(days=59),
        now - dt.timedelta(days=30, hours=1),
        n,
    )
    bp.events += _daily_activity(
        rng,
        clock,
        days_ago=range(61, 153),
        since=since,
        login_rate=1.15,
        feature_ratio=3.0,
        trend=lambda _d: 1.0,
        feature_weights={"projects": 6, "tasks": 5, "reports": 3, "dashboards": 1},
        n_contacts=n,
        upper=now - dt.timedelta(days=61),
    )

    csats = [5, 5, 5, 5, 5, 4, 4, 4, 4, 4, None]
    categories = ["how_to", "how_to", "feature_request", "bug", "billing", "how_to",
                  "account", "feature_request", "bug", "how_to", "account"]  # fmt: skip
    features = ["projects", "tasks", "reports", "dashboards"]
    for i, (csat, category) in enumerate(zip(csats, categories, strict=True)):
        created_at = now - dt.timedelta(days=140 - i * 12, hours=rng.randint(0, 8))
        bp.tickets.append(
            _ticket(
                rng,
                clock,
                customer,
                bp.contacts[rng.randrange(n)],
                subject=_subject(rng, category, features),
                category=category,
                created_at=created_at,
                status=TicketStatus.SOLVED,
                priority=rng.choice(
                    [TicketPriority.LOW, TicketPriority.NORMAL, TicketPriority.NORMAL, TicketPriority.HIGH]
                ),
                csat=csat,
                first_response_minutes=rng.randint(50, 70),
                resolution_hours=rng.randint(3, 30),
            )
        )
    bp.tickets.append(
        _ticket(
            rng,
            clock,
            customer,
            bp.contacts[0],
            subject="How do I export a project timeline to PDF?",
            category="how_to",
            created_at=now - dt.timedelta(days=2),
            status=TicketStatus.OPEN,
            priority=TicketPriority.NORMAL,
            first_response_minutes=60,
        )
    )
    return bp


def _globex(clock: _Clock, plans: dict[str, Plan], rng: random.Random, fake: Faker) -> _Blueprint:
    today, now = clock.today, clock.now
    since = today - dt.timedelta(days=730)
    customer = _fixed_customer(
        "customer_at_risk",
        company_name="Globex Industries",
        domain="globex.com",
        industry="Manufacturing",
        region="eu",
        account_owner="Marcus Lee",
        customer_since=since,
    )
    bp = _Blueprint(customer=customer)
    bp.contacts = _contacts(rng, fake, customer, 6, first=("Hank Scorpio", "hank.scorpio@globex.com", "admin"))
    sub = SubscriptionFactory.build(
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
    bp.invoices = _monthly_invoices(
        customer,
        sub,
        last_day=today,
        keep_last=12,
        amount=Decimal("1125.00"),
        statuses=lambda i, _n: InvoiceStatus.FAILED if i == 0 else InvoiceStatus.PAID,
        rng=rng,
    )

    n = len(bp.contacts)
    last_login = (now - dt.timedelta(days=9)).replace(second=0, microsecond=0)
    bp.events = [(EngagementKind.LOGIN, "", last_login, 0)]
    bp.events += _events_between(rng, {"login": 9}, now - dt.timedelta(days=29), last_login - dt.timedelta(hours=1), n)
    bp.events += _events_between(
        rng, {"exports": 8, "reports": 5, "projects": 3}, now - dt.timedelta(days=29), last_login, n
    )
    bp.events += _events_between(
        rng,
        {"login": 80, "exports": 60, "reports": 40, "projects": 30, "integrations": 15},
        now - dt.timedelta(days=59),
        now - dt.timedelta(days=30, hours=1),
        n,
    )
    bp.events += _daily_activity(
        rng,
        clock,
        days_ago=range(61, 121),
        since=since,
        login_rate=3.2,
        feature_ratio=1.8,
        trend=lambda _d: 1.0,
        feature_weights={"exports": 5, "reports": 4, "projects": 3, "integrations": 2},
        n_contacts=n,
        upper=now - dt.timedelta(days=61),
    )

    bp.tickets.append(
        _ticket(
            rng, clock, customer, bp.contacts[0],
            subject="Data export failing since Monday", category="bug",
            created_at=now - dt.timedelta(days=4, hours=3), status=TicketStatus.OPEN,
            priority=TicketPriority.URGENT, first_response_minutes=190,
        )
    )  # fmt: skip
    bp.tickets.append(
        _ticket(
            rng, clock, customer, bp.contacts[1],
            subject="Scheduled reports arrive empty", category="bug",
            created_at=now - dt.timedelta(days=1, hours=6), status=TicketStatus.OPEN,
            priority=TicketPriority.URGENT, first_response_minutes=None,
        )
    )  # fmt: skip
    solved = [(1, "bug", "Exports time out for large projects"), (2, "billing", "Card declined on renewal"),
              (2, "bug", "Integrations sync keeps dropping records"), (1, "account", "SSO login problems")]  # fmt: skip
    for i, (csat, category, subject) in enumerate(solved):
        created_at = now - dt.timedelta(days=85 - i * 18, hours=rng.randint(0, 8))
        bp.tickets.append(
            _ticket(
                rng, clock, customer, bp.contacts[rng.randrange(n)],
                subject=subject, category=category, created_at=created_at, status=TicketStatus.SOLVED,
                priority=TicketPriority.HIGH, csat=csat,
                first_response_minutes=rng.randint(120, 600), resolution_hours=rng.randint(30, 120),
            )
        )  # fmt: skip
    return bp


def _initech(clock: _Clock, plans: dict[str, Plan], rng: random.Random, fake: Faker) -> _Blueprint:
    today, now = clock.today, clock.now
    since = today - dt.timedelta(days=10)
    trial_end = today + dt.timedelta(days=5)
    customer = _fixed_customer(
        "customer_trial",
        company_name="Initech",
        domain="initech.com",
        industry="Software",
        region="us",
        account_owner="Priya Raman",
        customer_since=since,
    )
    bp = _Blueprint(customer=customer)
    bp.contacts = [
        ContactFactory.build(customer=customer, name=name, email=email, role=role)
        for name, email, role in (
            ("Bill Lumbergh", "bill.lumbergh@initech.com", "admin"),
            ("Peter Gibbons", "peter.gibbons@initech.com", "member"),
            ("Samir Nagheenanajar", "samir.nagheenanajar@initech.com", "developer"),
        )
    ]
    bp.subscriptions = [
        SubscriptionFactory.build(
            customer=customer,
            plan=plans["premium"],
            status=SubscriptionStatus.TRIALING,
            billing_cycle=BillingCycle.MONTHLY,
            seats_purchased=5,
            seats_used=3,
            mrr=Decimal("0.00"),
            started_at=since,
            renewal_date=trial_end,
            trial_ends_at=trial_end,
            canceled_at=None,
        )
    ]
    bp.events = _daily_activity(
        rng,
        clock,
        days_ago=range(0, 11),
        since=since,
        login_rate=2.5,
        feature_ratio=2.0,
        trend=lambda _d: 1.0,
        feature_weights={"projects": 5, "tasks": 4, "dashboards": 2, "integrations": 1},
        n_contacts=len(bp.contacts),
    )
    bp.tickets.append(
        _ticket(
            rng, clock, customer, bp.contacts[0],
            subject="How do I invite my team?", category="how_to",
            created_at=now - dt.timedelta(days=8, hours=2), status=TicketStatus.SOLVED,
            csat=5, first_response_minutes=25, resolution_hours=2,
        )
    )  # fmt: skip
    return bp


# --- generated customers ---------------------------------------------------------------


def _generated_blueprints(clock: _Clock, plans: dict[str, Plan], seed: int, count: int) -> tuple[list[_Blueprint], int]:
    wanted = [f"{GENERATED_PREFIX}{i:06d}" for i in range(1, count + 1)]
    present = set(
        Customer.objects.filter(external_id__startswith=GENERATED_PREFIX).values_list("external_id", flat=True)
    )
    missing = [(i, ext) for i, ext in enumerate(wanted, start=1) if ext not in present]
    used_domains = set(Customer.objects.values_list("domain", flat=True))
    blueprints = []
    for i, external_id in missing:
        rng, fake = _rng_for(seed, external_id)
        archetype = ARCHETYPE_PATTERN[(i - 1) % len(ARCHETYPE_PATTERN)]
        blueprints.append(_generated(clock, plans, rng, fake, external_id, archetype, used_domains, i))
    return blueprints, len(wanted) - len(missing)


def _generated(
    clock: _Clock,
    plans: dict[str, Plan],
    rng: random.Random,
    fake: Faker,
    external_id: str,
    archetype: str,
    used_domains: set[str],
    index: int,
) -> _Blueprint:
    today = clock.today
    company_name = fake.company()
    domain = domain_for(company_name)
    if domain in used_domains:
        domain = domain.replace(".com", f"-{index}.com")
    used_domains.add(domain)

    if archetype == TRIALING:
        age = rng.randint(2, 13)
    elif archetype == GROWING:
        age = rng.randint(125, 400)
    else:
        age = rng.randint(150, 1500)
    since = today - dt.timedelta(days=age)
    customer = CustomerFactory.build(
        external_id=external_id,
        company_name=company_name,
        domain=domain,
        industry=rng.choice(INDUSTRIES),
        region=_weighted(rng, REGION_WEIGHTS),
        customer_since=since,
        account_owner=rng.choice(ACCOUNT_OWNERS),
    )
    bp = _Blueprint(customer=customer)

    # Subscription(s)
    plan_code = rng.choice(["professional", "premium"]) if archetype == TRIALING else _weighted(rng, PLAN_WEIGHTS)
    plan = plans[plan_code]
    lo, hi = SEAT_RANGES[plan_code]
    seats = rng.randint(lo, hi)
    usage = {
        HEALTHY: (0.7, 1.0), GROWING: (0.9, 1.0), DECLINING: (0.3, 0.6), AT_RISK: (0.2, 0.45),
        TRIALING: (0.3, 0.8), PAST_DUE: (0.4, 0.8), CHURNED: (0.0, 0.4),
    }[archetype]  # fmt: skip
    seats_used = min(seats, max(0 if archetype == CHURNED else 1, round(seats * rng.uniform(*usage))))
    annual = archetype != TRIALING and rng.random() < 0.25
    discount = Decimal(str(rng.choice([1, 1, 1, 0.9, 0.85])))
    mrr = (plan.monthly_price_per_seat * seats * discount).quantize(Decimal("0.01"))
    churn_days_ago = rng.randint(15, 70) if archetype == CHURNED else 0
    quiet_days = rng.randint(5, 15)
    collapse_day = rng.randint(30, 50)

    started_at = since
    if archetype == GROWING and rng.random() < 0.5 and plan_code != "starter":
        # Upgraded from starter a few months ago: the old subscription is canceled.
        started_at = today - dt.timedelta(days=rng.randint(40, min(age - 30, 120)))
        old_seats = max(1, seats // 3)
        bp.subscriptions.append(
            SubscriptionFactory.build(
                customer=customer, plan=plans["starter"], status=SubscriptionStatus.CANCELED,
                billing_cycle=BillingCycle.MONTHLY, seats_purchased=old_seats, seats_used=old_seats,
                mrr=(plans["starter"].monthly_price_per_seat * old_seats).quantize(Decimal("0.01")),
                started_at=since, renewal_date=None, trial_ends_at=None, canceled_at=started_at,
            )
        )  # fmt: skip

    status = {
        TRIALING: SubscriptionStatus.TRIALING,
        PAST_DUE: SubscriptionStatus.PAST_DUE,
        CHURNED: SubscriptionStatus.CANCELED,
    }.get(archetype, SubscriptionStatus.ACTIVE)
    trial_ends_at = since + dt.timedelta(days=14) if archetype == TRIALING else None
    if archetype == TRIALING:
        renewal = trial_ends_at
        mrr = Decimal("0.00")
    elif archetype == CHURNED:
        renewal = None
    elif archetype == PAST_DUE:
        renewal = today + dt.timedelta(days=rng.randint(3, 25))
    else:
        step = 12 if annual else 1
        k = 1
        while (renewal := _add_months(started_at, k * step)) <= today:
            k += 1
    sub = SubscriptionFactory.build(
        customer=customer,
        plan=plan,
        status=status,
        billing_cycle=BillingCycle.ANNUAL if annual else BillingCycle.MONTHLY,
        seats_purchased=seats,
        seats_used=seats_used,
        mrr=mrr,
        started_at=started_at,
        renewal_date=renewal,
        trial_ends_at=trial_ends_at,
        canceled_at=today - dt.timedelta(days=churn_days_ago) if archetype == CHURNED else None,
    )
    bp.subscriptions.append(sub)

    # Invoices
    if archetype != TRIALING:
        failed_latest = rng.randint(1, 2)
        risk_roll = rng.random()

        def invoice_status(newest_index: int, _total: int) -> str:
            if archetype == PAST_DUE and newest_index < failed_latest:
                return InvoiceStatus.FAILED
            if newest_index == 0:
                if archetype == AT_RISK:
                    return (
                        InvoiceStatus.FAILED
                        if risk_roll < 0.4
                        else (InvoiceStatus.OPEN if risk_roll < 0.7 else InvoiceStatus.PAID)
                    )
                if archetype == CHURNED and risk_roll < 0.3:
                    return InvoiceStatus.FAILED
                if risk_roll < 0.25:
                    return InvoiceStatus.OPEN
            return InvoiceStatus.PAID

        bp.invoices = _monthly_invoices(
            customer,
            sub,
            last_day=sub.canceled_at or today,
            keep_last=12 if not annual else 3,
            amount=mrr * 12 if annual else mrr,
            statuses=invoice_status,
            rng=rng,
            months_step=12 if annual else 1,
        )
        if bp.subscriptions[0] is not sub:  # the canceled starter subscription before an upgrade
            old = bp.subscriptions[0]
            old_invoices = _monthly_invoices(
                customer, old, last_day=old.canceled_at - dt.timedelta(days=1), keep_last=3, amount=old.mrr,
                statuses=lambda _i, _n: InvoiceStatus.PAID, rng=rng,
            )  # fmt: skip
            for inv in old_invoices:
                inv.number = inv.number.replace("INV-", "INV-S-")
            bp.invoices = old_invoices + bp.invoices

    # Contacts
    n_contacts = max(1, min(seats_used or 1, rng.randint(2, 8)))
    bp.contacts = _contacts(rng, fake, customer, n_contacts)

    # Engagement
    all_features = list(settings.ENRICHMENT_PRODUCT_FEATURES)
    adopted_n = {
        HEALTHY: (3, 7), GROWING: (3, 6), DECLINING: (2, 4), AT_RISK: (1, 3),
        TRIALING: (2, 4), PAST_DUE: (2, 5), CHURNED: (1, 3),
    }[archetype]  # fmt: skip
    ranked = sorted(all_features, key=lambda f: rng.random() ** (1.0 / FEATURE_POPULARITY.get(f, 2)), reverse=True)
    adopted = ranked[: rng.randint(*adopted_n)]
    feature_weights = {f: FEATURE_POPULARITY.get(f, 2) * rng.uniform(0.3, 1.0) for f in adopted}
    login_rate = min(6.0, max(0.6, seats_used * rng.uniform(0.08, 0.3)))

    def trend(d: int) -> float:
        if archetype == GROWING:
            return 0.35 + 0.9 * (1 - d / 120)
        if archetype == DECLINING:
            return 0.25 + 0.9 * d / 120
        if archetype == AT_RISK:
            return 1.0 if d >= collapse_day else (0.0 if d < quiet_days else 0.15)
        if archetype == PAST_DUE:
            return 0.7
        if archetype == CHURNED:
            return 0.0 if d < churn_days_ago else 0.3 + 0.7 * min(1.0, (d - churn_days_ago) / 60)
        return 1.0

    bp.events = _daily_activity(
        rng,
        clock,
        days_ago=range(0, min(120, age + 1)),
        since=since,
        login_rate=login_rate,
        feature_ratio=rng.uniform(1.0, 2.2),
        trend=trend,
        feature_weights=feature_weights,
        n_contacts=len(bp.contacts),
    )

    # Tickets
    history_days = max(3, min(120, age))
    if archetype == CHURNED:
        history_days = max(3, min(120, age) - churn_days_ago)
    solved_range, open_range = {
        HEALTHY: ((0, 5), (0, 1)), GROWING: ((1, 6), (0, 1)), DECLINING: ((2, 7), (0, 2)),
        AT_RISK: ((3, 9), (1, 3)), TRIALING: ((0, 2), (0, 1)), PAST_DUE: ((2, 6), (1, 2)),
        CHURNED: ((2, 7), (0, 0)),
    }[archetype]  # fmt: skip
    category_weights = _CATEGORY_WEIGHTS.get(archetype, _DEFAULT_CATEGORY_WEIGHTS)
    ticket_features = adopted or all_features
    end_offset = dt.timedelta(days=churn_days_ago)
    for _ in range(rng.randint(*solved_range)):
        category = _weighted(rng, category_weights)
        created_at = clock.now - end_offset - dt.timedelta(minutes=rng.randint(3 * 1440, history_days * 1440 + 1440))
        csat = None
        if rng.random() < 0.7:
            csat = rng.choices([1, 2, 3, 4, 5], weights=_CSAT_WEIGHTS[archetype])[0]
        slow = archetype in (AT_RISK, CHURNED)
        bp.tickets.append(
            _ticket(
                rng, clock, customer, rng.choice(bp.contacts),
                subject=_subject(rng, category, ticket_features), category=category, created_at=created_at,
                status=TicketStatus.SOLVED if rng.random() < 0.85 else TicketStatus.CLOSED,
                priority=_weighted(rng, {TicketPriority.LOW: 20, TicketPriority.NORMAL: 55,
                                         TicketPriority.HIGH: 20, TicketPriority.URGENT: 5}),
                csat=csat,
                first_response_minutes=rng.randint(60, 720) if slow else rng.randint(5, 180),
                resolution_hours=rng.uniform(1, 96 if slow else 48),
            )
        )  # fmt: skip
    for _ in range(rng.randint(*open_range)):
        category = _weighted(rng, category_weights)
        if archetype in (AT_RISK, PAST_DUE):
            priority = _weighted(rng, {TicketPriority.HIGH: 50, TicketPriority.URGENT: 50})
        else:
            priority = _weighted(rng, {TicketPriority.LOW: 30, TicketPriority.NORMAL: 60, TicketPriority.HIGH: 10})
        created_at = clock.now - dt.timedelta(minutes=rng.randint(120, 10 * 1440))
        bp.tickets.append(
            _ticket(
                rng, clock, customer, rng.choice(bp.contacts),
                subject=_subject(rng, category, ticket_features), category=category, created_at=created_at,
                status=TicketStatus.OPEN if rng.random() < 0.7 else TicketStatus.PENDING, priority=priority,
                first_response_minutes=rng.randint(5, 240) if rng.random() < 0.8 else None,
            )
        )  # fmt: skip
    return bp
