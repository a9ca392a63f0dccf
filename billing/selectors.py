"""Reads for the billing app."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, OuterRef, Q, Subquery

from billing.models import LIVE_STATUSES, Invoice, InvoiceStatus, Subscription


def subscription_current(*, customer_pk: int, today: dt.date) -> dict[str, Any] | None:
    """The customer's live subscription (else the latest one) with its plan and
    invoice aggregates, in one query."""
    since = today - dt.timedelta(days=90)
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
        Subscription.objects.filter(customer_id=customer_pk)
        .annotate(
            failed_invoices_90d=Subquery(failed),
            overdue_invoices=Subquery(overdue),
            last_invoice_status=Subquery(last_status),
            is_live=Q(status__in=LIVE_STATUSES),
        )
        .order_by("-is_live", "-started_at", "-pk")
        .values(
            "status",
            "billing_cycle",
            "seats_purchased",
            "seats_used",
            "mrr",
            "started_at",
            "renewal_date",
            "trial_ends_at",
            "failed_invoices_90d",
            "overdue_invoices",
            "last_invoice_status",
            "plan__code",
            "plan__name",
        )
        .first()
    )
