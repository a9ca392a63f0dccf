"""Each internal provider against factory-built data with hand-computed values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.selectors import customer_ref_get
from enrichment.context.sections import SubscriptionDetails
from enrichment.providers.base import ProviderRequest
from enrichment.providers.internal import (
    CustomerIntelligenceProvider,
    EngagementMetricsProvider,
    SubscriptionDetailsProvider,
    SupportHistoryProvider,
)
from tests.billing.factories import InvoiceFactory, SubscriptionFactory
from tests.customers.factories import CustomerFactory
from tests.enrichment.conftest import add_events
from tests.support.factories import TicketFactory

pytestmark = pytest.mark.django_db


def request_for(customer) -> ProviderRequest:
    return ProviderRequest(customer=customer_ref_get(external_id=customer.external_id), now=timezone.now())


def test_engagement_counts_logins_trend_features_and_adoption(acme):
    section = EngagementMetricsProvider().fetch(request_for(acme), sections={})
    assert section.login_count_30d == 45  # 44 + the last login two hours ago
    assert section.login_count_prev_30d == 40
    assert section.login_trend_pct == 12.5
    assert section.last_login_at == acme.last_login
    assert section.most_used_features == ("projects", "tasks", "reports")
    assert [(f.feature, f.count) for f in section.feature_usage_30d] == [
        ("projects", 60),
        ("tasks", 45),
        ("reports", 30),
        ("dashboards", 8),
    ]
    assert section.features_used_30d == 4
    assert section.features_available == 8
    assert section.feature_adoption_score == 0.5


def test_engagement_ignores_events_older_than_sixty_days():
    customer = CustomerFactory()
    add_events(customer, old_logins=500)
    section = EngagementMetricsProvider().fetch(request_for(customer), sections={})
    assert (section.login_count_30d, section.login_count_prev_30d) == (0, 0)
    assert section.last_login_at is not None  # the last login is still known


def test_support_history_aggregates(acme):
    section = SupportHistoryProvider().fetch(request_for(acme), sections={})
    assert section.total_conversations == 12
    assert section.open_tickets == 1
    assert section.urgent_open_tickets == 0
    assert section.avg_csat == 4.5
    assert section.csat_responses == 10
    assert section.common_issues[0] == "how_to"  # 1 open + 4 solved
    assert set(section.common_issues) == {"how_to", "billing", "bug"}
    assert section.avg_first_response_hours == 1.0
    assert len(section.recent_tickets) == 5
    assert section.recent_tickets[0].status == "open"


def test_support_history_counts_urgent_open_only():
    customer = CustomerFactory()
    TicketFactory(customer=customer, priority="urgent")
    TicketFactory(customer=customer, priority="urgent", solved=True, csat=1)
    TicketFactory(customer=customer, priority="high", status="pending")
    section = SupportHistoryProvider().fetch(request_for(customer), sections={})
    assert (section.open_tickets, section.urgent_open_tickets, section.csat_responses) == (2, 1, 1)
    assert section.avg_csat == 1.0


def test_support_history_empty_customer_gets_defaults():
    customer = CustomerFactory()
    section = SupportHistoryProvider().fetch(request_for(customer), sections={})
    assert section.total_conversations == 0 and section.avg_csat is None


def test_subscription_details(acme):
    section = SubscriptionDetailsProvider().fetch(request_for(acme), sections={})
    assert section.status == "active"
    assert section.plan == "premium"
    assert (section.seats_used, section.seats_purchased, section.seat_utilization) == (8, 10, 0.8)
    assert section.mrr == Decimal("250.00")
    assert section.days_to_renewal == 28
    assert section.failed_invoices_90d == 0
    assert section.last_invoice_status == "paid"
    assert not section.is_trial


def test_subscription_failed_invoice_and_trial():
    today = timezone.now().date()
    customer = CustomerFactory()
    SubscriptionFactory(customer=customer, trialing=True, trial_ends_at=today + dt.timedelta(days=5))
    InvoiceFactory(customer=customer, status="failed", issued_at=today - dt.timedelta(days=10), due_at=today - dt.timedelta(days=3))
    InvoiceFactory(customer=customer, status="failed", issued_at=today - dt.timedelta(days=200), due_at=today - dt.timedelta(days=190))
    section = SubscriptionDetailsProvider().fetch(request_for(customer), sections={})
    assert section.is_trial and section.days_to_trial_end == 5
    assert section.failed_invoices_90d == 1  # the 200-day-old one is outside the window
    assert section.overdue_invoices == 2
    assert section.last_invoice_status == "failed"


def test_subscription_prefers_the_live_one_over_a_newer_canceled_one():
    today = timezone.now().date()
    customer = CustomerFactory()
    SubscriptionFactory(customer=customer, started_at=today - dt.timedelta(days=100))
    SubscriptionFactory(customer=customer, canceled=True, started_at=today - dt.timedelta(days=5))
    section = SubscriptionDetailsProvider().fetch(request_for(customer), sections={})
    assert section.status == "active"


def test_customer_without_subscription_gets_defaults():
    customer = CustomerFactory()
    assert SubscriptionDetailsProvider().fetch(request_for(customer), sections={}) == SubscriptionDetails()


def test_customer_intelligence_takes_plan_and_mrr_from_subscription(acme):
    sub = SubscriptionDetailsProvider().fetch(request_for(acme), sections={})
    section = CustomerIntelligenceProvider().fetch(request_for(acme), sections={"subscription_details": sub})
    assert (section.company_name, section.industry, section.plan, section.mrr) == (
        "Acme Corp",
        "Technology",
        "premium",
        Decimal("250.00"),
    )
    assert section.days_as_customer == 152
