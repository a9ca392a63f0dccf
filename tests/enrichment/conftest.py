from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.models import EngagementEvent, EngagementKind
from enrichment.engine.service import ContextEnrichmentService
from tests.billing.factories import InvoiceFactory, PlanFactory, SubscriptionFactory
from tests.customers.factories import ContactFactory, CustomerFactory
from tests.support.factories import TicketFactory


def add_events(customer, *, logins_30d=0, logins_prev=0, features_30d=None, old_logins=0, last_login=None):
    """Bulk-insert events at known times and rebuild the rollup once."""
    now = timezone.now()
    rows = []
    for i in range(logins_30d):
        rows.append(EngagementEvent(customer=customer, kind=EngagementKind.LOGIN, occurred_at=now - dt.timedelta(hours=3 + (i % 600))))
    for i in range(logins_prev):
        rows.append(EngagementEvent(customer=customer, kind=EngagementKind.LOGIN, occurred_at=now - dt.timedelta(days=31 + (i % 28))))
    for i in range(old_logins):
        rows.append(EngagementEvent(customer=customer, kind=EngagementKind.LOGIN, occurred_at=now - dt.timedelta(days=61 + (i % 300))))
    for feature, n in (features_30d or {}).items():
        for i in range(n):
            rows.append(
                EngagementEvent(
                    customer=customer, kind=EngagementKind.FEATURE_USE, feature=feature, occurred_at=now - dt.timedelta(hours=5 + i % 500)
                )
            )
    if last_login is not None:
        rows.append(EngagementEvent(customer=customer, kind=EngagementKind.LOGIN, occurred_at=last_login))
    EngagementEvent.objects.bulk_create(rows, batch_size=5000)


@pytest.fixture
def acme(db):
    """customer_123 as the seed describes it, built from factories."""
    today = timezone.now().date()
    customer = CustomerFactory(
        external_id="customer_123",
        company_name="Acme Corp",
        domain="acme.com",
        industry="Technology",
        region="us",
        customer_since=today - dt.timedelta(days=152),
    )
    ContactFactory(customer=customer, email="jane@acme.com", name="Jane Doe")
    plan = PlanFactory(code="premium")
    sub = SubscriptionFactory(
        customer=customer,
        plan=plan,
        seats_purchased=10,
        seats_used=8,
        mrr=Decimal("250.00"),
        started_at=customer.customer_since,
        renewal_date=today + dt.timedelta(days=28),
    )
    for months in range(1, 6):
        issued = today - dt.timedelta(days=30 * months)
        InvoiceFactory(
            customer=customer,
            subscription=sub,
            status="paid",
            amount=Decimal("250.00"),
            issued_at=issued,
            due_at=issued + dt.timedelta(days=14),
            paid_at=issued,
        )
    last_login = (timezone.now() - dt.timedelta(hours=2)).replace(second=0, microsecond=0)
    add_events(
        customer,
        logins_30d=44,
        logins_prev=40,
        features_30d={"projects": 60, "tasks": 45, "reports": 30, "dashboards": 8},
        old_logins=90,
        last_login=last_login,
    )
    now = timezone.now()
    TicketFactory(customer=customer, category="how_to", created_at=now - dt.timedelta(days=2))
    for i in range(11):
        TicketFactory(
            customer=customer,
            solved=True,
            category=["billing", "how_to", "bug"][i % 3],
            created_at=now - dt.timedelta(days=10 + 7 * i),
            csat=(5 if i < 5 else 4) if i < 10 else None,
        )
    customer.last_login = last_login
    return customer


@pytest.fixture
def uncached_service():
    return ContextEnrichmentService(enable_caching=False)
