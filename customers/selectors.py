"""Reads for the customers app. Enrichment providers call these."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.db.models import Case, DateField, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, When

from config.db import CompiledQuery
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


_REF_QUERY = CompiledQuery(
    lambda external_id: Customer.objects.filter(external_id=external_id).values_list(*_REF_FIELDS)[:1],
    external_id="\x01sentinel-external-id",
)


def customer_ref_get(*, external_id: str) -> CustomerRef | None:
    rows = _REF_QUERY.rows(external_id=external_id)
    return CustomerRef(*rows[0]) if rows else None


def customer_refs_get(*, external_ids: Sequence[str]) -> dict[str, CustomerRef]:
    """The customers with these external ids (unknown ids are absent). One
    customer, the single context's cold path, runs the compiled statement."""
    if len(external_ids) == 1:
        rows = _REF_QUERY.rows(external_id=external_ids[0])
    else:
        rows = Customer.objects.filter(external_id__in=list(external_ids)).values_list(*_REF_FIELDS)
    return {row[1]: CustomerRef(*row) for row in rows}


def customer_external_id_get(*, pk: int) -> str | None:
    """The external id of the customer with this primary key, if it still exists."""
    return Customer.objects.filter(pk=pk).values_list("external_id", flat=True).first()


def customer_refs_chunks(*, chunk_size: int = 1000) -> Iterator[list[CustomerRef]]:
    """Every customer, in primary key order, ``chunk_size`` at a time (keyset
    pagination: no OFFSET scans on 100,000 rows)."""
    last = 0
    while True:
        rows = list(Customer.objects.filter(pk__gt=last).order_by("pk").values_list(*_REF_FIELDS)[:chunk_size])
        if not rows:
            return
        yield [CustomerRef(*row) for row in rows]
        last = rows[-1][0]


def customer_external_id_for_email(*, email: str) -> str | None:
    return Contact.objects.filter(email=email.strip().lower()).values_list("customer__external_id", flat=True).first()


def customer_external_id_for_domain(*, domain: str) -> str | None:
    domain = domain.strip().lower().removeprefix("www.")
    return Customer.objects.filter(domain=domain).order_by("pk").values_list("external_id", flat=True).first()


def customer_external_ids_active(*, today: dt.date, days: int) -> list[str]:
    """External ids, in pk order, of customers with any engagement in the last
    ``days`` days up to ``today`` (from the daily rollup: an index range, not
    the events table). One query."""
    activity = EngagementDaily.objects.filter(customer=OuterRef("pk"), day__gte=today - dt.timedelta(days=days), day__lte=today)
    return list(Customer.objects.filter(Exists(activity)).order_by("pk").values_list("external_id", flat=True))


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


def _rollup_rows(customers: Q, start: dt.date, split: dt.date, end: dt.date) -> QuerySet:
    """Per customer, kind and feature: the sums over [split, end] and [start, split);
    logins of the recent window are kept per day (for the sparkline). At most
    ~40 rows per customer, however busy it is."""
    recent = Q(day__gte=split)
    login_day = Case(When(recent & Q(kind=EngagementKind.LOGIN), then=F("day")), default=None, output_field=DateField())
    return (
        EngagementDaily.objects.filter(customers, day__gte=start, day__lte=end)
        .values("customer_id", "kind", "feature")
        .annotate(login_day=login_day)
        .values_list("customer_id", "kind", "feature", "login_day")
        .annotate(current=Sum("count", filter=recent), previous=Sum("count", filter=~recent))
        .order_by()
    )


def _last_login_rows(customers: Q) -> QuerySet:
    last_login = (
        EngagementEvent.objects.filter(customer_id=OuterRef("pk"), kind=EngagementKind.LOGIN)
        .order_by("-occurred_at")
        .values("occurred_at")[:1]
    )
    return Customer.objects.filter(customers).annotate(last=Subquery(last_login)).values_list("pk", "last")


_SENTINEL_PK = -900_000_001
_ROLLUP_ONE = CompiledQuery(
    lambda pk, start, split, end: _rollup_rows(Q(customer_id=pk), start, split, end),
    pk=_SENTINEL_PK,
    start=dt.date(1900, 1, 2),
    split=dt.date(1900, 1, 3),
    end=dt.date(1900, 1, 4),
)
_LAST_LOGIN_ONE = CompiledQuery(lambda pk: _last_login_rows(Q(pk=pk)), pk=_SENTINEL_PK)


def engagement_windows(*, customer_pks: Sequence[int], today: dt.date) -> dict[int, EngagementWindow]:
    """Engagement of many customers in two bounded queries: their daily rollup
    over 60 days summed in the database (about 40 rows per customer, whatever
    their history) and one index probe per customer for the last login."""
    start_current = today - dt.timedelta(days=29)
    start_previous = today - dt.timedelta(days=59)
    if len(customer_pks) == 1:
        (pk,) = customer_pks
        rows = _ROLLUP_ONE.rows(pk=pk, start=start_previous, split=start_current, end=today)
        last_logins = _LAST_LOGIN_ONE.rows(pk=pk)
    else:
        rows = _rollup_rows(Q(customer_id__in=customer_pks), start_previous, start_current, today)
        last_logins = _last_login_rows(Q(pk__in=customer_pks))
    windows = {pk: EngagementWindow({}, {}, 0, None, {}) for pk in customer_pks}
    for customer_id, kind, feature, login_day, current, previous in rows:
        window = windows[customer_id]
        key = (kind, feature)
        if current:
            window.current[key] = window.current.get(key, 0) + current
        if previous:
            window.previous[key] = window.previous.get(key, 0) + previous
        if login_day is not None:
            window.logins_by_day[login_day] = window.logins_by_day.get(login_day, 0) + current
    for pk, last in last_logins:
        window = windows[pk]
        windows[pk] = EngagementWindow(window.current, window.previous, len(window.logins_by_day), last, window.logins_by_day)
    return windows


def engagement_logins_by_day(*, customer_pk: int, start: dt.date, end: dt.date) -> dict[dt.date, int]:
    """Logins per day (for the admin's sparkline), from the rollup."""
    rows = (
        EngagementDaily.objects.filter(customer_id=customer_pk, kind=EngagementKind.LOGIN, day__gte=start, day__lte=end)
        .values("day")
        .annotate(n=Sum("count"))
        .values_list("day", "n")
    )
    return dict(rows)
