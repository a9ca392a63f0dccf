"""A year of account history in which cancellations follow a known pattern, with noise.

``seed_demo`` adds these accounts (``acct_NNNNN``) so that a fresh demo base
has enough history to train the churn model (:mod:`enrichment.churn`) and to
show how it and the rules each predicted who canceled. Each account is
simulated month by month over ``months`` months:

- **Trouble.** A healthy account falls into trouble with probability 8 % a
  month and recovers with 30 %. In trouble its logins drop to a third, errors
  jump from ~0.1 to ~1.2 a day, an invoice fails half the time, and a bug
  ticket with a poor rating may be filed.
- **Cancellation** (``signal=True``): each month with probability
  ``sigmoid(-5.0 + 3.2 trouble + 0.9 starter - 1.4 annual + 0.7 failed invoice + noise)``,
  where trouble and the failed invoice are the previous month's (people leave
  after a bad month) and the noise is normal with sd 0.6. A failed invoice is
  paid late once the trouble is over. Seat count, feature use and tenure play no
  part, though the rules weigh them. With ``signal=False`` every month's
  probability is the same 4 %: cancellations are pure noise.

After a cancellation the account is silent. Everything is deterministic for a
``seed`` and relative to the clock's today.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from billing.models import BillingCycle, Invoice, InvoiceStatus, Plan, Subscription, SubscriptionStatus
from customers.models import Customer, EngagementKind
from enrichment.demo.builders import (
    Blueprint,
    Clock,
    Event,
    add_months,
    company_name,
    contacts_build,
    domain_for,
    names_random,
    numbers_random,
    person_name,
    poisson,
    ticket_build,
    weighted,
)
from enrichment.demo.seed import blueprints_persist, plans_ensure
from support.models import TicketPriority, TicketStatus

HISTORY_PREFIX = "acct_"
PLAN_WEIGHTS = {"starter": 35, "professional": 35, "premium": 20, "enterprise": 10}
SEATS = {"starter": (2, 8), "professional": (5, 25), "premium": (10, 40), "enterprise": (30, 90)}
FEATURES = ("projects", "tasks", "reports", "dashboards", "integrations", "automations")


def history_external_id(index: int) -> str:
    return f"{HISTORY_PREFIX}{index:05d}"


def churn_probability(*, trouble: bool, starter: bool, annual: bool, failed_invoice: bool, noise: float) -> float:
    """The known pattern: one month's probability of canceling."""
    logit = -5.0 + 3.2 * trouble + 0.9 * starter - 1.4 * annual + 0.7 * failed_invoice + noise
    return 1 / (1 + math.exp(-logit))


@dataclass
class _Story:
    trouble: bool = False
    canceled_on: dt.date | None = None
    failed: set[int] = field(default_factory=set)  # month indexes whose invoice failed
    troubled: set[int] = field(default_factory=set)


@transaction.atomic
def history_seed(*, accounts: int, months: int = 13, seed: int = 42, signal: bool = True) -> dict[str, int]:
    """Add the history accounts ``acct_00001`` ... not present yet; returns the row counts saved."""
    now = timezone.now()
    clock = Clock(now=now, today=now.date())
    plans = plans_ensure()
    present = set(Customer.objects.filter(external_id__startswith=HISTORY_PREFIX).values_list("external_id", flat=True))
    blueprints = [
        history_build(clock, plans, seed=seed, index=i, months=months, signal=signal)
        for i in range(1, accounts + 1)
        if history_external_id(i) not in present
    ]
    return {"customers": len(blueprints)} | blueprints_persist(blueprints)


def history_build(clock: Clock, plans: Mapping[str, Plan], *, seed: int, index: int, months: int, signal: bool = True) -> Blueprint:
    external_id = history_external_id(index)
    rng, names = numbers_random(seed, external_id), names_random(seed, external_id)
    start = add_months(clock.today, -months)
    company = company_name(names)
    customer = Customer(
        external_id=external_id,
        company_name=company,
        domain=domain_for(company).replace(".com", f"-{index}.io"),
        industry=rng.choice(("Software", "Retail", "Logistics", "Media", "Healthcare")),
        region=rng.choice(("us", "eu", "apac")),
        customer_since=start - dt.timedelta(days=rng.randint(30, 700)),
        account_owner="",
    )
    plan = weighted(rng, PLAN_WEIGHTS)
    seats, annual = rng.randint(*SEATS[plan]), rng.random() < 0.25
    story = _story(rng, start, months, plan=plan, annual=annual, signal=signal)
    bp = Blueprint(customer=customer)
    mrr = (plans[plan].monthly_price_per_seat * seats).quantize(Decimal("0.01"))
    sub = _subscription(clock, plans[plan], customer, story, seats=seats, annual=annual, mrr=mrr)
    bp.subscriptions = [sub]
    bp.contacts = contacts_build(rng, customer, rng.randint(2, 5), next_name=functools.partial(person_name, names))
    bp.invoices = _invoices(customer, sub, story, start, months, amount=mrr * 12 if annual else mrr)
    bp.events = _events(rng, clock, story, start, months, rate=rng.uniform(0.4, 1.2), n_contacts=len(bp.contacts))
    bp.tickets = _tickets(rng, clock, customer, bp.contacts, story, start)
    return bp


def _story(rng: random.Random, start: dt.date, months: int, *, plan: str, annual: bool, signal: bool) -> _Story:
    """Month by month: trouble comes and goes; a month after trouble (or a failed invoice) the account may leave."""
    story = _Story()
    for m in range(months):
        was_trouble = story.trouble
        story.trouble = rng.random() < (0.7 if story.trouble else 0.08)
        if story.trouble:
            story.troubled.add(m)
            if not annual and rng.random() < 0.5:
                story.failed.add(m)
        noise = rng.gauss(0, 0.6)
        failed_before = (m - 1) in story.failed
        p = churn_probability(trouble=was_trouble, starter=plan == "starter", annual=annual, failed_invoice=failed_before, noise=noise)
        if rng.random() < (p if signal else 0.04):
            story.canceled_on = add_months(start, m) + dt.timedelta(days=rng.randint(1, 27))
            break
    return story


def _subscription(clock: Clock, plan: Plan, customer: Customer, story: _Story, *, seats: int, annual: bool, mrr: Decimal) -> Subscription:
    canceled = story.canceled_on is not None
    step, k = (12 if annual else 1), 1
    while (renewal := add_months(customer.customer_since, k * step)) <= clock.today:
        k += 1
    last_failed = not canceled and bool(story.failed) and max(story.failed) == max(story.troubled, default=-1) and story.trouble
    return Subscription(
        customer=customer, plan=plan,
        status=SubscriptionStatus.CANCELED if canceled else (SubscriptionStatus.PAST_DUE if last_failed else SubscriptionStatus.ACTIVE),
        billing_cycle=BillingCycle.ANNUAL if annual else BillingCycle.MONTHLY,
        seats_purchased=seats, seats_used=max(1, seats * 3 // 4), mrr=mrr, started_at=customer.customer_since,
        renewal_date=None if canceled else renewal, trial_ends_at=None, canceled_at=story.canceled_on,
    )  # fmt: skip


def _invoices(customer: Customer, sub: Subscription, story: _Story, start: dt.date, months: int, *, amount: Decimal) -> list[Invoice]:
    invoices = []
    step = 12 if sub.billing_cycle == BillingCycle.ANNUAL else 1
    for m in range(0, months, step):
        issued = add_months(start, m)
        if story.canceled_on is not None and issued >= story.canceled_on:
            break
        failed = m in story.failed
        recovered = failed and (m + 1) < months and (m + 1) not in story.troubled and story.canceled_on is None
        paid_at = issued + dt.timedelta(days=40 if recovered else 3)
        invoices.append(
            Invoice(
                customer=customer, subscription=sub, number=f"INV-{customer.external_id}-{m + 1:04d}", amount=amount,
                status=InvoiceStatus.FAILED if failed and not recovered else InvoiceStatus.PAID, issued_at=issued,
                due_at=issued + dt.timedelta(days=7), paid_at=None if failed and not recovered else paid_at,
            )
        )  # fmt: skip
    return invoices


def _events(rng: random.Random, clock: Clock, story: _Story, start: dt.date, months: int, *, rate: float, n_contacts: int) -> list[Event]:
    events: list[Event] = []
    day, end = start, story.canceled_on or clock.today
    while day < end:
        m = (day.year - start.year) * 12 + day.month - start.month
        trouble = m in story.troubled
        midnight = clock.midnight(day)
        for kind, feature, lam in (
            (EngagementKind.LOGIN, "", rate * (0.33 if trouble else 1.0)),
            (EngagementKind.ERROR, "", 1.2 if trouble else 0.1),
            (EngagementKind.FEATURE_USE, rng.choice(FEATURES), rate * 0.8),
        ):
            for _ in range(poisson(rng, lam)):
                at = midnight + dt.timedelta(seconds=rng.randint(0, 86_399))
                if at < clock.now:
                    events.append((kind, feature, at, rng.randrange(n_contacts)))
        day += dt.timedelta(days=1)
    return events


def _tickets(rng: random.Random, clock: Clock, customer: Customer, contacts: list, story: _Story, start: dt.date) -> list:
    tickets = []
    for m in sorted(story.troubled):
        if rng.random() < 0.5:
            created = clock.midnight(add_months(start, m)) + dt.timedelta(days=rng.randint(2, 20), hours=rng.randint(8, 17))
            if created >= clock.now or (story.canceled_on and created.date() >= story.canceled_on):
                continue
            tickets.append(
                ticket_build(
                    rng, clock, customer, rng.choice(contacts), subject="Errors when loading projects", category="bug",
                    created_at=created, status=TicketStatus.SOLVED, priority=TicketPriority.HIGH,
                    csat=rng.choice((1, 2, 2, 3)), resolution_hours=rng.uniform(4, 72),
                )
            )  # fmt: skip
    return tickets
