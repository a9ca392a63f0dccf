from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from billing.models import LIVE_STATUSES, Invoice, Plan, Subscription, SubscriptionStatus
from tests.billing.factories import InvoiceFactory, PlanFactory, SubscriptionFactory
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _subscription_values(**overrides):
    values = {
        "customer": CustomerFactory(),
        "plan": PlanFactory(code="premium"),
        "status": SubscriptionStatus.ACTIVE,
        "seats_purchased": 10,
        "seats_used": 8,
        "mrr": Decimal("250.00"),
        "started_at": "2024-01-01",
    }
    values.update(overrides)
    return values


def test_plan_factory_gets_or_creates_by_code():
    first = PlanFactory(code="premium")
    second = PlanFactory(code="premium")
    assert first.pk == second.pk
    assert (first.tier, first.name) == (3, "Premium")
    assert Plan.objects.filter(code="premium").count() == 1
    assert PlanFactory(code="starter").tier == 1
    assert PlanFactory(code="enterprise").tier == 4


def test_subscription_factory_traits_are_valid():
    trial = SubscriptionFactory(trialing=True)
    trial.full_clean()
    assert trial.status == SubscriptionStatus.TRIALING
    assert trial.renewal_date == trial.trial_ends_at
    assert trial.mrr == 0
    canceled = SubscriptionFactory(canceled=True)
    assert canceled.canceled_at is not None


@pytest.mark.parametrize("field", ["seats_purchased", "seats_used", "mrr"])
def test_negative_values_rejected(field):
    values = _subscription_values(**{field: -1})
    with pytest.raises(IntegrityError), transaction.atomic():
        Subscription.objects.create(**values)


@pytest.mark.parametrize("field", ["seats_purchased", "seats_used", "mrr"])
def test_negative_values_rejected_on_bulk_create(field):
    values = _subscription_values(**{field: -1})
    with pytest.raises(IntegrityError), transaction.atomic():
        Subscription.objects.bulk_create([Subscription(**values)])


def test_zero_values_accepted():
    Subscription.objects.create(**_subscription_values(seats_purchased=0, seats_used=0, mrr=Decimal("0")))


@pytest.mark.parametrize("second_status", LIVE_STATUSES)
def test_second_live_subscription_rejected(second_status):
    customer = CustomerFactory()
    Subscription.objects.create(**_subscription_values(customer=customer))
    with pytest.raises(IntegrityError), transaction.atomic():
        Subscription.objects.create(**_subscription_values(customer=customer, status=second_status))


def test_canceled_subscriptions_do_not_count_as_live():
    customer = CustomerFactory()
    for _ in range(2):
        Subscription.objects.create(**_subscription_values(customer=customer, status=SubscriptionStatus.CANCELED, canceled_at="2024-06-01"))
    Subscription.objects.create(**_subscription_values(customer=customer))
    assert customer.subscriptions.count() == 3
    # Another customer can have its own live subscription.
    Subscription.objects.create(**_subscription_values())


def test_invoice_negative_amount_and_duplicate_number_rejected():
    invoice = InvoiceFactory()
    assert invoice.paid_at is not None
    with pytest.raises(IntegrityError), transaction.atomic():
        InvoiceFactory(amount=Decimal("-0.01"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.create(
            customer=invoice.customer,
            number=invoice.number,
            amount=Decimal("1.00"),
            status="paid",
            issued_at=invoice.issued_at,
            due_at=invoice.due_at,
        )
