"""Reads of the vendors room: which customers get vendor lookups, which of
them need fresh data, and the stored vendor records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from billing.models import LIVE_STATUSES, Subscription
from customers.models import Customer
from enrichment.vendors.base import payload_to_result
from enrichment.vendors.models import ExternalRecord, ExternalStatus
from enrichment.vendors.registry import active_vendors


# -- selection (set-based) ---------------------------------------------------------------
def eligible_customers() -> QuerySet[Customer]:
    """Customers that get vendor lookups: a live subscription with enough MRR,
    or on one of the listed plans."""
    rule = Q(mrr__gte=Decimal(str(settings.EXTERNAL_ENRICHMENT_MIN_MRR)))
    plans = [p for p in settings.EXTERNAL_ENRICHMENT_PLANS if p]
    if plans:
        rule |= Q(plan__code__in=plans)
    qualifying = Subscription.objects.filter(rule, customer=OuterRef("pk"), status__in=LIVE_STATUSES)
    return Customer.objects.filter(Exists(qualifying))


def customer_is_eligible(*, customer_pk: int) -> bool:
    return eligible_customers().filter(pk=customer_pk).exists()


def stale_external_customers(*, now: dt.datetime | None = None, limit: int | None = None) -> list[int]:
    """Eligible customers (pks, in pk order, at most ``limit``) missing fresh
    data from at least one active vendor. A vendor's record counts as fresh when it answered within
    EXTERNAL_DATA_TTL_HOURS, or was tried within the last day (failures are
    retried daily, not hourly)."""
    vendors = active_vendors()
    if not vendors:
        return []
    now = now or timezone.now()
    fresh_after = now - dt.timedelta(hours=settings.EXTERNAL_DATA_TTL_HOURS)
    tried_after = now - dt.timedelta(days=1)
    handled = ExternalRecord.objects.filter(Q(fetched_at__gte=fresh_after) | Q(checked_at__gte=tried_after), vendor__in=vendors)
    missing = Q()
    for vendor in vendors:  # one NOT EXISTS per vendor (at most three), one statement
        missing |= ~Exists(handled.filter(customer=OuterRef("pk"), vendor=vendor))
    ids = eligible_customers().filter(missing).order_by("pk").values_list("pk", flat=True)
    return list(ids[: limit or settings.EXTERNAL_REFRESH_BATCH])


# -- one customer ------------------------------------------------------------------------------
def vendor_customer_get(*, customer_id: int | str) -> dict[str, Any] | None:
    """What the vendor calls need about a customer (a pk or an external id):
    ``pk``, ``external_id``, ``company_name``, ``domain``."""
    lookup = {"pk": customer_id} if isinstance(customer_id, int) else {"external_id": customer_id}
    return Customer.objects.filter(**lookup).values("pk", "external_id", "company_name", "domain").first()


def external_record_is_fresh(*, customer_pk: int, vendor: str, now: dt.datetime) -> bool:
    """Did the vendor answer (data or no data) within EXTERNAL_DATA_TTL_HOURS?"""
    record = ExternalRecord.objects.filter(customer_id=customer_pk, vendor=vendor).values("status", "fetched_at").first()
    fresh_after = now - dt.timedelta(hours=settings.EXTERNAL_DATA_TTL_HOURS)
    return (
        record is not None
        and record["status"] in (ExternalStatus.OK, ExternalStatus.NO_DATA)
        and record["fetched_at"] is not None
        and record["fetched_at"] >= fresh_after
    )


def crunchbase_permalink(*, customer_pk: int, domain: str) -> str:
    """The Crunchbase handle Clearbit/PDL gave, else the domain's first label."""
    for payload in ExternalRecord.objects.filter(
        customer_id=customer_pk, vendor__in=["clearbit", "peopledatalabs"], status=ExternalStatus.OK
    ).values_list("payload", flat=True):
        handle = payload_to_result("company", payload).crunchbase_handle
        if handle:
            return handle.removeprefix("organization/")
    return domain.split(".")[0] if domain else ""


def external_records_answered(*, customer_pks: Sequence[int]) -> list[tuple[int, str, dict[str, Any], dt.datetime]]:
    """(customer pk, vendor, payload, fetched_at) of every record a vendor
    answered, for these customers (one query)."""
    return list(
        ExternalRecord.objects.filter(customer_id__in=list(customer_pks), fetched_at__isnull=False).values_list(
            "customer_id", "vendor", "payload", "fetched_at"
        )
    )


def external_records_for(*, customer_pk: int) -> list[ExternalRecord]:
    """What every vendor said about one customer, by vendor (for the CLI and the admin)."""
    return list(ExternalRecord.objects.filter(customer_id=customer_pk).order_by("vendor"))
