"""Generated demo customers ``cust_000001`` ...: one archetype each, built in memory.

Each customer draws from its own generators seeded with ``(seed, external_id)``
(:func:`~enrichment.demo.builders.numbers_random` and ``names_random``), so its data does not depend
on how many others are generated. The draws happen in a fixed order: customer,
commercial terms, subscriptions, invoices, contacts, engagement, tickets.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from billing.models import BillingCycle, Invoice, InvoiceStatus, Plan, Subscription, SubscriptionStatus
from customers.models import Contact, Customer
from enrichment.demo.activity import daily_activity
from enrichment.demo.archetypes import (
    ARCHETYPE_PATTERN,
    AT_RISK,
    CHURNED,
    DECLINING,
    ESCALATED_PRIORITY_WEIGHTS,
    EXPIRED_TRIAL_SLOT,
    FEATURE_POPULARITY,
    GROWING,
    OPEN_PRIORITY_WEIGHTS,
    PAST_DUE,
    PLAN_WEIGHTS,
    PROFILES,
    REGION_WEIGHTS,
    SEAT_RANGES,
    SOLVED_PRIORITY_WEIGHTS,
    TRIALING,
    ArchetypeProfile,
)
from enrichment.demo.builders import (
    Blueprint,
    Clock,
    Event,
    add_months,
    company_name,
    contacts_build,
    domain_for,
    monthly_invoices_build,
    names_random,
    numbers_random,
    person_name,
    ticket_build,
    ticket_subject,
    weighted,
)
from enrichment.demo.words import ACCOUNT_OWNERS, INDUSTRIES
from support.models import Ticket, TicketStatus

GENERATED_PREFIX = "cust_"


def generated_external_id(index: int) -> str:
    return f"{GENERATED_PREFIX}{index:06d}"


@dataclass(frozen=True)
class _Terms:
    """The commercial terms and story dates drawn for one generated customer."""

    archetype: str
    age: int  # days since the customer signed up
    plan_code: str
    seats: int
    seats_used: int
    annual: bool
    mrr: Decimal
    churn_days_ago: int
    quiet_days: int
    collapse_day: int


def generated_build(clock: Clock, plans: Mapping[str, Plan], *, seed: int, index: int, used_domains: set[str]) -> Blueprint:
    """Customer number ``index`` with all its rows; adds its domain to ``used_domains`` (made unique)."""
    external_id = generated_external_id(index)
    rng, names = numbers_random(seed, external_id), names_random(seed, external_id)
    archetype = ARCHETYPE_PATTERN[(index - 1) % len(ARCHETYPE_PATTERN)]
    profile = PROFILES[archetype]
    customer, age = _customer(rng, names, clock, external_id, archetype, used_domains, index)
    terms = _terms(rng, plans, archetype, profile, age)
    bp = Blueprint(customer=customer)
    bp.subscriptions = _subscriptions(rng, clock, plans, customer, terms)
    if archetype != TRIALING:
        bp.invoices = _invoices(rng, clock, customer, bp.subscriptions, terms)
    n_contacts = max(1, min(terms.seats_used or 1, rng.randint(2, 8)))
    bp.contacts = contacts_build(rng, customer, n_contacts, next_name=functools.partial(person_name, names))
    adopted, bp.events = _engagement(rng, clock, customer, terms, profile, len(bp.contacts))
    bp.tickets = _tickets(rng, clock, customer, bp.contacts, terms, profile, adopted)
    return bp


def _customer(
    rng: random.Random,
    names: random.Random,
    clock: Clock,
    external_id: str,
    archetype: str,
    used_domains: set[str],
    index: int,
) -> tuple[Customer, int]:
    company = company_name(names)
    domain = domain_for(company)
    if domain in used_domains:
        domain = domain.replace(".com", f"-{index}.com")
    used_domains.add(domain)
    if archetype == TRIALING and (index - 1) % len(ARCHETYPE_PATTERN) == EXPIRED_TRIAL_SLOT:
        age = rng.randint(16, 20)  # an expired trial: ended 2 to 6 days ago
    elif archetype == TRIALING:
        age = rng.randint(2, 13)
    elif archetype == GROWING:
        age = rng.randint(125, 400)
    else:
        age = rng.randint(150, 1500)
    customer = Customer(
        external_id=external_id,
        company_name=company,
        domain=domain,
        industry=rng.choice(INDUSTRIES),
        region=weighted(rng, REGION_WEIGHTS),
        customer_since=clock.today - dt.timedelta(days=age),
        account_owner=rng.choice(ACCOUNT_OWNERS),
    )
    return customer, age


def _terms(rng: random.Random, plans: Mapping[str, Plan], archetype: str, profile: ArchetypeProfile, age: int) -> _Terms:
    plan_code = rng.choice(["professional", "premium"]) if archetype == TRIALING else weighted(rng, PLAN_WEIGHTS)
    seats = rng.randint(*SEAT_RANGES[plan_code])
    seats_used = min(seats, max(0 if archetype == CHURNED else 1, round(seats * rng.uniform(*profile.seat_usage))))
    annual = archetype != TRIALING and rng.random() < 0.25
    discount = Decimal(str(rng.choice([1, 1, 1, 0.9, 0.85])))
    return _Terms(
        archetype=archetype,
        age=age,
        plan_code=plan_code,
        seats=seats,
        seats_used=seats_used,
        annual=annual,
        mrr=(plans[plan_code].monthly_price_per_seat * seats * discount).quantize(Decimal("0.01")),
        churn_days_ago=rng.randint(15, 70) if archetype == CHURNED else 0,
        quiet_days=rng.randint(5, 15),
        collapse_day=rng.randint(30, 50),
    )


def _subscriptions(rng: random.Random, clock: Clock, plans: Mapping[str, Plan], customer: Customer, terms: _Terms) -> list[Subscription]:
    """The live (or canceled, for churned) subscription, after a canceled starter one for half the growers."""
    today, since, archetype = clock.today, customer.customer_since, terms.archetype
    subscriptions = []
    started_at = since
    if archetype == GROWING and rng.random() < 0.5 and terms.plan_code != "starter":
        # Upgraded from starter a few months ago: the old subscription is canceled.
        started_at = today - dt.timedelta(days=rng.randint(40, min(terms.age - 30, 120)))
        old_seats = max(1, terms.seats // 3)
        subscriptions.append(
            Subscription(
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
    mrr = terms.mrr
    if archetype == TRIALING:
        renewal = trial_ends_at
        mrr = Decimal("0.00")
    elif archetype == CHURNED:
        renewal = None
    elif archetype == PAST_DUE:
        renewal = today + dt.timedelta(days=rng.randint(3, 25))
    else:
        step = 12 if terms.annual else 1
        k = 1
        while (renewal := add_months(started_at, k * step)) <= today:
            k += 1
    subscriptions.append(
        Subscription(
            customer=customer, plan=plans[terms.plan_code], status=status,
            billing_cycle=BillingCycle.ANNUAL if terms.annual else BillingCycle.MONTHLY,
            seats_purchased=terms.seats, seats_used=terms.seats_used, mrr=mrr, started_at=started_at,
            renewal_date=renewal, trial_ends_at=trial_ends_at,
            canceled_at=today - dt.timedelta(days=terms.churn_days_ago) if archetype == CHURNED else None,
        )
    )  # fmt: skip
    return subscriptions


def _invoice_statuses(archetype: str, failed_latest: int, risk_roll: float) -> Callable[[int, int], str]:
    """Past due: the newest one or two failed. Otherwise the newest may be failed or open, by archetype."""

    def invoice_status(newest_index: int, _total: int) -> str:
        if archetype == PAST_DUE and newest_index < failed_latest:
            return InvoiceStatus.FAILED
        if newest_index == 0:
            if archetype == AT_RISK:
                if risk_roll < 0.4:
                    return InvoiceStatus.FAILED
                return InvoiceStatus.OPEN if risk_roll < 0.7 else InvoiceStatus.PAID
            if archetype == CHURNED and risk_roll < 0.3:
                return InvoiceStatus.FAILED
            if risk_roll < 0.25:
                return InvoiceStatus.OPEN
        return InvoiceStatus.PAID

    return invoice_status


def _invoices(rng: random.Random, clock: Clock, customer: Customer, subscriptions: Sequence[Subscription], terms: _Terms) -> list[Invoice]:
    """The last 12 monthly (or 3 annual) invoices of the live subscription, after 3 of an upgraded one."""
    sub = subscriptions[-1]
    failed_latest = rng.randint(1, 2)
    risk_roll = rng.random()
    invoices = monthly_invoices_build(
        customer,
        sub,
        last_day=sub.canceled_at or clock.today,
        keep_last=12 if not terms.annual else 3,
        amount=terms.mrr * 12 if terms.annual else terms.mrr,
        statuses=_invoice_statuses(terms.archetype, failed_latest, risk_roll),
        rng=rng,
        months_step=12 if terms.annual else 1,
    )
    if len(subscriptions) > 1:  # the canceled starter subscription before an upgrade
        old = subscriptions[0]
        old_invoices = monthly_invoices_build(
            customer, old, last_day=old.canceled_at - dt.timedelta(days=1), keep_last=3, amount=old.mrr,
            statuses=lambda _i, _n: InvoiceStatus.PAID, rng=rng,
        )  # fmt: skip
        for inv in old_invoices:
            inv.number = inv.number.replace("INV-", "INV-S-")
        invoices = old_invoices + invoices
    return invoices


def _trend(terms: _Terms) -> Callable[[int], float]:
    """Activity relative to normal, ``days_ago`` days back, by archetype."""
    archetype = terms.archetype

    def trend(d: int) -> float:
        if archetype == GROWING:
            return 0.35 + 0.9 * (1 - d / 120)
        if archetype == DECLINING:
            return 0.25 + 0.9 * d / 120
        if archetype == AT_RISK:
            return 1.0 if d >= terms.collapse_day else (0.0 if d < terms.quiet_days else 0.15)
        if archetype == PAST_DUE:
            return 0.7
        if archetype == CHURNED:
            churned = terms.churn_days_ago
            return 0.0 if d < churned else 0.3 + 0.7 * min(1.0, (d - churned) / 60)
        return 1.0

    return trend


def _engagement(
    rng: random.Random,
    clock: Clock,
    customer: Customer,
    terms: _Terms,
    profile: ArchetypeProfile,
    n_contacts: int,
) -> tuple[list[str], list[Event]]:
    """The adopted features (popular ones more likely) and up to 120 days of daily activity."""
    all_features = list(settings.ENRICHMENT_PRODUCT_FEATURES)
    ranked = sorted(all_features, key=lambda f: rng.random() ** (1.0 / FEATURE_POPULARITY.get(f, 2)), reverse=True)
    adopted = ranked[: rng.randint(*profile.features_adopted)]
    feature_weights = {f: FEATURE_POPULARITY.get(f, 2) * rng.uniform(0.3, 1.0) for f in adopted}
    login_rate = min(6.0, max(0.6, terms.seats_used * rng.uniform(0.08, 0.3)))
    events = daily_activity(
        rng,
        clock,
        days_ago=range(0, min(120, terms.age + 1)),
        since=customer.customer_since,
        login_rate=login_rate,
        feature_ratio=rng.uniform(1.0, 2.2),
        trend=_trend(terms),
        feature_weights=feature_weights,
        n_contacts=n_contacts,
    )
    return adopted, events


def _tickets(
    rng: random.Random,
    clock: Clock,
    customer: Customer,
    contacts: Sequence[Contact],
    terms: _Terms,
    profile: ArchetypeProfile,
    adopted: Sequence[str],
) -> list[Ticket]:
    """Solved tickets over the customer's history (before churn), then the open ones of the last 10 days."""
    archetype = terms.archetype
    history_days = max(3, min(120, terms.age) - terms.churn_days_ago)
    features = adopted or list(settings.ENRICHMENT_PRODUCT_FEATURES)
    end = clock.now - dt.timedelta(days=terms.churn_days_ago)
    tickets = []
    for _ in range(rng.randint(*profile.solved_tickets)):
        category = weighted(rng, profile.category_weights)
        created_at = end - dt.timedelta(minutes=rng.randint(3 * 1440, history_days * 1440 + 1440))
        csat = None
        if rng.random() < 0.7:
            csat = rng.choices([1, 2, 3, 4, 5], weights=profile.csat_weights)[0]
        slow = profile.slow_support
        tickets.append(
            ticket_build(
                rng, clock, customer, rng.choice(contacts),
                subject=ticket_subject(rng, category, features), category=category, created_at=created_at,
                status=TicketStatus.SOLVED if rng.random() < 0.85 else TicketStatus.CLOSED,
                priority=weighted(rng, SOLVED_PRIORITY_WEIGHTS), csat=csat,
                first_response_minutes=rng.randint(60, 720) if slow else rng.randint(5, 180),
                resolution_hours=rng.uniform(1, 96 if slow else 48),
            )
        )  # fmt: skip
    for _ in range(rng.randint(*profile.open_tickets)):
        category = weighted(rng, profile.category_weights)
        escalated = archetype in (AT_RISK, PAST_DUE)
        priority = weighted(rng, ESCALATED_PRIORITY_WEIGHTS if escalated else OPEN_PRIORITY_WEIGHTS)
        created_at = clock.now - dt.timedelta(minutes=rng.randint(120, 10 * 1440))
        tickets.append(
            ticket_build(
                rng, clock, customer, rng.choice(contacts),
                subject=ticket_subject(rng, category, features), category=category, created_at=created_at,
                status=TicketStatus.OPEN if rng.random() < 0.7 else TicketStatus.PENDING, priority=priority,
                first_response_minutes=rng.randint(5, 240) if rng.random() < 0.8 else None,
            )
        )  # fmt: skip
    return tickets
