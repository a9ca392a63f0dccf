"""Reads for the billing app."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery

from billing.models import LIVE_STATUSES, Invoice, InvoiceStatus, Subscription
from config.db import CompiledQuery, PlannedQuery
from config.pg_types import any_of
from customers.models import Customer

_FIELDS = (
    "customer_id",
    "status",
    "billing_cycle",
    "seats_purchased",
    "seats_used",
    "mrr",
    "started_at",
    "renewal_date",
    "trial_ends_at",
    "canceled_at",
    "failed_invoices_90d",
    "overdue_invoices",
    "last_invoice_status",
    "plan__code",
    "plan__name",
)


def _subscriptions(customers: Q, since: dt.date, today: dt.date) -> QuerySet:
    invoices = Invoice.objects.filter(customer_id=OuterRef("customer_id"))
    failed = (
        invoices.filter(status=InvoiceStatus.FAILED, issued_at__gte=since)
        .order_by()
        .values("customer_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    overdue = (
        invoices.filter(~Q(status=InvoiceStatus.PAID), due_at__lt=today)
        .order_by()
        .values("customer_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    last_status = invoices.order_by("-issued_at", "-pk").values("status")[:1]
    return (
        Subscription.objects.filter(customers)
        .annotate(
            failed_invoices_90d=Subquery(failed),
            overdue_invoices=Subquery(overdue),
            last_invoice_status=Subquery(last_status),
            is_live=Q(status__in=LIVE_STATUSES),
        )
        # The first row seen for a customer wins: live before ended, newest first.
        .order_by("customer_id", "-is_live", "-started_at", "-pk")
        .values_list(*_FIELDS)
    )


_ONE = CompiledQuery(
    lambda pk, since, today: _subscriptions(Q(customer_id=pk), since, today),
    pk=-900_000_001,
    since=dt.date(1900, 1, 2),
    today=dt.date(1900, 1, 3),
)


def subscriptions_current_planned(*, customer_pk: int, today: dt.date) -> list[PlannedQuery]:
    """The statement :func:`subscriptions_current` runs for one customer (see :func:`config.db.prefetched`)."""
    return [PlannedQuery(_ONE, {"pk": customer_pk, "since": today - dt.timedelta(days=90), "today": today})]


def subscriptions_current(*, customer_pks: Sequence[int], today: dt.date) -> dict[int, dict[str, Any]]:
    """Each customer's live subscription (trialing, active, past due), else
    its latest ended one (the most recently started, e.g. the canceled
    subscription of a churned account, with its ``canceled_at``), with plan
    and invoice aggregates, for many customers in one query."""
    since = today - dt.timedelta(days=90)
    if len(customer_pks) == 1:
        (planned,) = subscriptions_current_planned(customer_pk=customer_pks[0], today=today)
        rows = planned.query.rows(**planned.values)
    else:
        rows = _subscriptions(any_of("customer_id", customer_pks), since, today)
    current: dict[int, dict[str, Any]] = {}
    for row in rows:
        if row[0] not in current:
            current[row[0]] = dict(zip(_FIELDS, row, strict=True))
    return current


def customer_external_ids_renewing(*, today: dt.date, days: int) -> list[str]:
    """External ids, in pk order, of customers whose live subscription renews,
    or whose trial ends, within ``days`` days from ``today``. One query."""
    until = today + dt.timedelta(days=days)
    renewing = Subscription.objects.filter(
        Q(renewal_date__gte=today, renewal_date__lte=until) | Q(trial_ends_at__gte=today, trial_ends_at__lte=until),
        customer=OuterRef("pk"),
        status__in=LIVE_STATUSES,
    )
    return list(Customer.objects.filter(Exists(renewing)).order_by("pk").values_list("external_id", flat=True))
