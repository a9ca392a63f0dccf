"""factory-boy factories for the billing app's models (tests only: the demo seed has its own builders)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from billing.models import BillingCycle, Invoice, InvoiceStatus, Plan, Subscription, SubscriptionStatus
from tests.customers.factories import CustomerFactory

# code -> (name, tier, list price per seat and month)
PLAN_CATALOG: dict[str, tuple[str, int, Decimal]] = {
    "starter": ("Starter", 1, Decimal("15.00")),
    "professional": ("Professional", 2, Decimal("30.00")),
    "premium": ("Premium", 3, Decimal("50.00")),
    "enterprise": ("Enterprise", 4, Decimal("90.00")),
}


def _catalog(code: str, index: int, default: object) -> object:
    entry = PLAN_CATALOG.get(code)
    return entry[index] if entry else default


def _today() -> dt.date:
    return timezone.now().date()


class PlanFactory(DjangoModelFactory):
    """Plans are looked up by ``code``; the four catalogue codes get their catalogue name, tier and price."""

    class Meta:
        model = Plan
        django_get_or_create = ("code",)

    code = "professional"
    name = factory.LazyAttribute(lambda o: _catalog(o.code, 0, o.code.replace("-", " ").replace("_", " ").title()))
    tier = factory.LazyAttribute(lambda o: _catalog(o.code, 1, 1))
    monthly_price_per_seat = factory.LazyAttribute(lambda o: _catalog(o.code, 2, Decimal("20.00")))


class SubscriptionFactory(DjangoModelFactory):
    """An active monthly subscription. Traits: ``trialing``, ``past_due``, ``canceled``."""

    class Meta:
        model = Subscription

    class Params:
        trialing = factory.Trait(
            status=SubscriptionStatus.TRIALING,
            trial_ends_at=factory.LazyFunction(lambda: _today() + dt.timedelta(days=14)),
            renewal_date=factory.SelfAttribute("trial_ends_at"),
            mrr=Decimal("0.00"),
        )
        past_due = factory.Trait(status=SubscriptionStatus.PAST_DUE)
        canceled = factory.Trait(
            status=SubscriptionStatus.CANCELED,
            canceled_at=factory.LazyFunction(lambda: _today() - dt.timedelta(days=10)),
            renewal_date=None,
        )

    customer = factory.SubFactory(CustomerFactory)
    plan = factory.SubFactory(PlanFactory)
    status = SubscriptionStatus.ACTIVE
    billing_cycle = BillingCycle.MONTHLY
    seats_purchased = 10
    seats_used = factory.LazyAttribute(lambda o: max(0, o.seats_purchased - 2))
    mrr = factory.LazyAttribute(lambda o: (o.plan.monthly_price_per_seat * o.seats_purchased).quantize(Decimal("0.01")))
    started_at = factory.LazyAttribute(lambda o: o.customer.customer_since)
    renewal_date = factory.LazyFunction(lambda: _today() + dt.timedelta(days=30))
    trial_ends_at = None
    canceled_at = None


class InvoiceFactory(DjangoModelFactory):
    """A paid invoice; pass ``status=InvoiceStatus.FAILED`` (or OPEN) for an unpaid one."""

    class Meta:
        model = Invoice

    customer = factory.SubFactory(CustomerFactory)
    subscription = None
    number = factory.Sequence(lambda n: f"INV-{n:08d}")
    amount = Decimal("100.00")
    status = InvoiceStatus.PAID
    issued_at = factory.Faker("date_between", start_date="-90d", end_date="today")
    due_at = factory.LazyAttribute(lambda o: o.issued_at + dt.timedelta(days=14))
    paid_at = factory.LazyAttribute(lambda o: o.issued_at + dt.timedelta(days=2) if o.status == InvoiceStatus.PAID else None)
