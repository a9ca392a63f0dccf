"""Training data from history: point in time (no leakage), labels, and the same facts as serving."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from django.db import connection
from django.db.models import Count, Q, Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.models import InvoiceStatus, SubscriptionStatus
from customers.models import EngagementDaily, EngagementEvent, EngagementKind
from customers.windows import midnight
from enrichment.churn import dataset
from enrichment.churn.dataset import facts_at, snapshot_dates, snapshots_build
from enrichment.churn.facts import facts_from_sections
from support.models import TicketPriority, TicketStatus
from tests.billing.factories import InvoiceFactory, PlanFactory, SubscriptionFactory
from tests.customers.factories import CustomerFactory
from tests.support.factories import TicketFactory

D = dt.date(2025, 6, 1)  # the snapshot date; its moment is midnight UTC
T = midnight(D)


def _events(customer, kind, times, feature=""):
    EngagementEvent.objects.bulk_create([EngagementEvent(customer=customer, kind=kind, feature=feature, occurred_at=t) for t in times])


@pytest.fixture
def account_at_d(db):
    """An account as the world stood at T: usage, an open urgent ticket, an overdue invoice."""
    customer = CustomerFactory(external_id="acct_pit", customer_since=D - dt.timedelta(days=400))
    sub = SubscriptionFactory(customer=customer, plan=PlanFactory(code="premium"), seats_purchased=12, started_at=customer.customer_since)
    _events(customer, EngagementKind.LOGIN, [T - dt.timedelta(days=d, hours=3) for d in range(1, 20)])
    _events(customer, EngagementKind.LOGIN, [T - dt.timedelta(days=d, hours=3) for d in range(31, 59, 2)])
    _events(customer, EngagementKind.ERROR, [T - dt.timedelta(days=d) for d in (2, 3, 4)])
    _events(customer, EngagementKind.FEATURE_USE, [T - dt.timedelta(days=5)], feature="reports")
    open_ticket = TicketFactory(customer=customer, priority=TicketPriority.URGENT, created_at=T - dt.timedelta(days=3))
    TicketFactory(customer=customer, solved=True, csat=4, created_at=T - dt.timedelta(days=20))
    overdue = InvoiceFactory(customer=customer, subscription=sub, status=InvoiceStatus.OPEN, issued_at=D - dt.timedelta(days=20),
                             due_at=D - dt.timedelta(days=6))  # fmt: skip
    return customer, sub, open_ticket, overdue


def _what_happened_after_t(customer, sub, open_ticket, overdue) -> None:
    """Everything that happened after T: rows changed to their later state, new rows after T."""
    open_ticket.status, open_ticket.resolved_at, open_ticket.csat = TicketStatus.SOLVED, T + dt.timedelta(days=2), 1
    open_ticket.save()
    overdue.status, overdue.paid_at = InvoiceStatus.PAID, D + dt.timedelta(days=3)
    overdue.save()
    sub.status, sub.canceled_at = SubscriptionStatus.CANCELED, D + dt.timedelta(days=40)
    sub.save()
    later = [T + dt.timedelta(seconds=1), T + dt.timedelta(hours=5), T + dt.timedelta(days=9)]
    for kind in (EngagementKind.LOGIN, EngagementKind.ERROR, EngagementKind.API_CALL):
        _events(customer, kind, later)
    _events(customer, EngagementKind.FEATURE_USE, later, feature="exports")
    TicketFactory(customer=customer, priority=TicketPriority.URGENT, created_at=T + dt.timedelta(minutes=1))
    TicketFactory(customer=customer, solved=True, csat=1, created_at=T + dt.timedelta(days=1))
    InvoiceFactory(customer=customer, subscription=sub, status=InvoiceStatus.FAILED, issued_at=D, due_at=D)
    InvoiceFactory(customer=customer, subscription=sub, status=InvoiceStatus.FAILED, issued_at=D + dt.timedelta(days=1))


def _facts_before_and_after_the_future(account_at_d):
    customer = account_at_d[0]
    before = facts_at(day=D)[customer.pk]
    _what_happened_after_t(*account_at_d)
    return before, facts_at(day=D)[customer.pk]


def test_no_fact_at_a_snapshot_reads_anything_after_it(account_at_d):
    before, after = _facts_before_and_after_the_future(account_at_d)
    assert after == before
    # and the facts are the account as it stood at T
    assert (before.logins_30d, before.logins_prev_30d, before.active_days_30d, before.errors_30d) == (19, 14, 19, 3)
    assert (before.features_used_30d, before.open_tickets, before.urgent_open_tickets, before.avg_csat) == (1, 1, 1, 4.0)
    assert (before.overdue_invoices, before.failed_invoices_90d, before.tenure_days, before.seats) == (1, 0, 400, 12)


def _leaky_engagement(day):
    """A feature built with the snapshot's own day included: it sees events after midnight."""
    rows = (
        EngagementDaily.objects.filter(day__gte=day - dt.timedelta(days=60), day__lte=day)
        .values("customer_id")
        .annotate(
            logins_30d=Sum("count", filter=Q(kind=EngagementKind.LOGIN, day__gte=day - dt.timedelta(days=30))),
            errors_30d=Sum("count", filter=Q(kind=EngagementKind.ERROR, day__gte=day - dt.timedelta(days=30))),
            active_days_30d=Count("day", filter=Q(kind=EngagementKind.LOGIN), distinct=True),
        )
        .order_by()
    )
    return {row.pop("customer_id"): row for row in rows}


def test_a_feature_built_from_data_after_the_snapshot_fails_the_leakage_check(account_at_d, monkeypatch):
    monkeypatch.setattr(dataset, "_engagement", _leaky_engagement)
    before, after = _facts_before_and_after_the_future(account_at_d)
    with pytest.raises(AssertionError):
        assert after == before
    assert after.errors_30d > before.errors_30d


def test_labels_churn_within_the_horizon_not_upgrades_and_unknown_when_not_yet_observed(db):
    today = D + dt.timedelta(days=200)
    since = D - dt.timedelta(days=300)
    starter, premium = PlanFactory(code="starter"), PlanFactory(code="premium")

    def account(name, **sub):
        customer = CustomerFactory(external_id=name, customer_since=since)
        SubscriptionFactory(customer=customer, plan=starter, started_at=since, **sub)
        return customer

    churned = account("a_churn", status="canceled", canceled_at=D + dt.timedelta(days=60))
    late = account("a_late", status="canceled", canceled_at=D + dt.timedelta(days=120))
    upgraded = account("a_upgrade", status="canceled", canceled_at=D + dt.timedelta(days=30))
    SubscriptionFactory(customer=upgraded, plan=premium, started_at=D + dt.timedelta(days=30))
    stayed = account("a_stay")
    gone_before = account("a_gone", status="canceled", canceled_at=D - dt.timedelta(days=1))
    rows = {
        (s.customer_id, s.day): s.churned for s in snapshots_build(days=[D, today - dt.timedelta(days=30)], horizon_days=90, today=today)
    }
    assert rows[(churned.pk, D)] is True
    assert rows[(late.pk, D)] is False
    assert rows[(upgraded.pk, D)] is False
    assert rows[(stayed.pk, D)] is False
    assert (gone_before.pk, D) not in rows  # not live at the snapshot: no row
    # 30 days before today the 90-day window is not over: unknown, unless it already churned
    assert rows[(stayed.pk, today - dt.timedelta(days=30))] is None


def test_building_is_set_based_whatever_the_number_of_accounts(db):
    since = D - dt.timedelta(days=300)
    for i in range(3):
        SubscriptionFactory(customer=CustomerFactory(external_id=f"few_{i}", customer_since=since), started_at=since)
    days = snapshot_dates(today=D + dt.timedelta(days=200), count=4, horizon_days=90)
    with CaptureQueriesContext(connection) as few:
        snapshots_build(days=days, horizon_days=90, today=D + dt.timedelta(days=200))
    for i in range(30):
        SubscriptionFactory(customer=CustomerFactory(external_id=f"many_{i}", customer_since=since), started_at=since)
    with CaptureQueriesContext(connection) as many:
        rows = snapshots_build(days=days, horizon_days=90, today=D + dt.timedelta(days=200))
    assert len(rows) == 33 * 4
    assert len(many.captured_queries) == len(few.captured_queries) == 2 + 3 * len(days)


def test_snapshot_dates_are_month_starts_whose_labels_are_observed():
    days = snapshot_dates(today=dt.date(2026, 12, 3), count=12, horizon_days=90)
    assert days[-1] == dt.date(2026, 9, 1) and days[0] == dt.date(2025, 10, 1)
    assert all(d.day == 1 for d in days) and days == sorted(days) and len(set(days)) == 12


def test_training_reads_the_same_facts_as_serving(acme, uncached_service):
    """The facts a live context is scored on equal the facts training builds from history."""
    ctx = uncached_service.enrich_context("customer_123")
    served = facts_from_sections(
        {key: ctx.section(key) for key in ("customer_intelligence", "engagement_metrics", "support_history", "subscription_details")}
    )
    tomorrow = timezone.now().date() + dt.timedelta(days=1)
    built = facts_at(day=tomorrow)[acme.pk]
    assert built.logins_30d > 0 and built.avg_csat is not None
    assert dataclasses.replace(built, tenure_days=built.tenure_days - 1) == served
