"""Reads for the customers app. Enrichment providers call these."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Max, Q, QuerySet, Sum

from customers.models import Contact, Customer, EngagementDaily, EngagementEvent, EngagementKind


@dataclass(frozen=True, slots=True)
class CustomerRef:
    """The customer's identity and profile, read once per enrichment."""

    pk: int
    external_id: str
    company_name: str
    domain: str
    industry: str
    region: str
    account_owner: str
    customer_since: dt.date


_REF_FIELDS = (
    "pk",
    "external_id",
    "company_name",
    "domain",
    "industry",
    "region",
    "account_owner",
    "customer_since",
)


def customer_ref_get(*, external_id: str) -> CustomerRef | None:
    row = Customer.objects.filter(external_id=external_id).values_list(*_REF_FIELDS).first()
    return CustomerRef(*row) if row else None


def customer_external_id_for_email(*, email: str) -> str | None:
    return Contact.objects.filter(email=email.strip().lower()).values_list("customer__external_id", flat=True).first()


def customer_external_id_for_domain(*, domain: str) -> str | None:
    domain = domain.strip().lower().removeprefix("www.")
    return Customer.objects.filter(domain=domain).order_by("pk").values_list("external_id", flat=True).first()


def customer_search(*, query: str = "") -> QuerySet[Customer]:
    """Customers matching a name, domain, external id or contact email."""
    qs = Customer.objects.all()
    query = query.strip()
    if not query:
        return qs
    matching_contacts = Contact.objects.filter(email__istartswith=query).values("customer_id")
    return qs.filter(
        Q(company_name__icontains=query) | Q(domain__istartswith=query.lower()) | Q(external_id=query) | Q(pk__in=matching_contacts)
    )


@dataclass(frozen=True, slots=True)
class EngagementWindow:
    """Per (kind, feature): event counts in the last 30 days and the 30 before."""

    current: dict[tuple[str, str], int]
    previous: dict[tuple[str, str], int]
    active_days_30d: int
    last_login_at: dt.datetime | None
    logins_by_day: dict[dt.date, int]


def engagement_window(*, customer_pk: int, today: dt.date) -> EngagementWindow:
    """Two bounded queries: the daily rollup over 60 days (at most 60 x kinds x
    features rows) and one index probe for the last login."""
    start_current = today - dt.timedelta(days=29)
    start_previous = today - dt.timedelta(days=59)
    rows = EngagementDaily.objects.filter(customer_id=customer_pk, day__gte=start_previous, day__lte=today).values_list(
        "day", "kind", "feature", "count"
    )
    current: dict[tuple[str, str], int] = {}
    previous: dict[tuple[str, str], int] = {}
    logins_by_day: dict[dt.date, int] = {}
    for day, kind, feature, count in rows:
        bucket = current if day >= start_current else previous
        key = (kind, feature)
        bucket[key] = bucket.get(key, 0) + count
        if day >= start_current and kind == EngagementKind.LOGIN:
            logins_by_day[day] = logins_by_day.get(day, 0) + count
    last_login_at = EngagementEvent.objects.filter(customer_id=customer_pk, kind=EngagementKind.LOGIN).aggregate(last=Max("occurred_at"))[
        "last"
    ]
    return EngagementWindow(current, previous, len(logins_by_day), last_login_at, logins_by_day)


def engagement_logins_by_day(*, customer_pk: int, start: dt.date, end: dt.date) -> dict[dt.date, int]:
    """Logins per day (for the admin's sparkline), from the rollup."""
    rows = (
        EngagementDaily.objects.filter(customer_id=customer_pk, kind=EngagementKind.LOGIN, day__gte=start, day__lte=end)
        .values("day")
        .annotate(n=Sum("count"))
        .values_list("day", "n")
    )
    return dict(rows)
