"""Reads for the customers app. Enrichment providers call these."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Count, DateField, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, When
from django.db.models.functions import TruncDate

from config.db import CompiledQuery
from customers.models import Contact, Customer, EngagementDaily, EngagementEvent, EngagementKind
from customers.windows import Split, Window, split


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
    """Per (kind, feature): event counts in the last 30 days and the 30 before
    (the windows of :mod:`customers.windows`), exact to the second."""

    current: dict[tuple[str, str], int]
    previous: dict[tuple[str, str], int]
    active_days_30d: int
    last_login_at: dt.datetime | None
    logins_by_day: dict[dt.date, int]


_ALL_KINDS = tuple(EngagementKind.values)


def _rollup_rows(customers: Q, cut: Split) -> QuerySet:
    """Per customer, kind and feature: the sums of the whole days of each
    window from the rollup; logins of the current window kept per day (for the
    sparkline and active days). At most ~40 rows per customer, however busy."""
    recent = Q(day__gt=cut.split_day)
    login_day = Case(When(recent & Q(kind=EngagementKind.LOGIN), then=F("day")), default=None, output_field=DateField())
    first, last = cut.rollup_days
    return (
        EngagementDaily.objects.filter(customers, day__gte=first, day__lte=last)
        .exclude(day=cut.split_day)
        .values("customer_id", "kind", "feature")
        .annotate(login_day=login_day)
        .values_list("customer_id", "kind", "feature", "login_day")
        .annotate(current=Sum("count", filter=recent), previous=Sum("count", filter=~recent))
        .order_by()
    )


def _raw_rows(customers: Q, cut: Split) -> QuerySet:
    """The same sums over the raw events of the partial days at the windows'
    edges (the previous window's first day, the day the current one starts,
    today up to now). ``kind IN (every kind)`` lets PostgreSQL read the
    ``(customer, kind, occurred_at)`` index as one short range per kind."""
    recent = Q(occurred_at__gt=cut.current.start)
    login_day = Case(
        When(recent & Q(kind=EngagementKind.LOGIN), then=TruncDate("occurred_at", tzinfo=dt.UTC)), default=None, output_field=DateField()
    )
    return (
        EngagementEvent.objects.filter(customers, cut.raw_q("occurred_at"), kind__in=_ALL_KINDS)
        .values("customer_id", "kind", "feature")
        .annotate(login_day=login_day)
        .values_list("customer_id", "kind", "feature", "login_day")
        .annotate(current=Count("pk", filter=recent), previous=Count("pk", filter=~recent))
        .order_by()
    )


def _window_rows(customers: Q, cut: Split) -> QuerySet:
    return _rollup_rows(customers, cut).union(_raw_rows(customers, cut), all=True)


def _last_login_rows(customers: Q, now: dt.datetime) -> QuerySet:
    last_login = (
        EngagementEvent.objects.filter(customer_id=OuterRef("pk"), kind=EngagementKind.LOGIN, occurred_at__lte=now)
        .order_by("-occurred_at")
        .values("occurred_at")[:1]
    )
    return Customer.objects.filter(customers).annotate(last=Subquery(last_login)).values_list("pk", "last")


_SENTINEL_PK = -900_000_001
_SENTINEL_NOW = dt.datetime(1900, 3, 4, 5, 6, 7, tzinfo=dt.UTC)


_SPLIT_FIELDS = ("rollup_first", "rollup_last", "split_day", "current_start", "current_end", "previous_start",
                 "head_end", "split_start", "split_end", "today_start")  # fmt: skip


def _split_params(cut: Split) -> dict[str, Any]:
    """A split as the named parameters of the compiled statement."""
    first, last = cut.rollup_days
    values = (first, last, cut.split_day, cut.current.start, cut.current.end, cut.previous.start,
              cut.head_end, cut.split_start, cut.split_end, cut.today_start)  # fmt: skip
    return dict(zip(_SPLIT_FIELDS, values, strict=True))


def _split_from(**p: Any) -> Split:
    return Split(Window(p["current_start"], p["current_end"]), Window(p["previous_start"], p["current_start"]),
                 (p["rollup_first"], p["rollup_last"]), p["split_day"], p["head_end"], p["split_start"], p["split_end"],
                 p["today_start"])  # fmt: skip


# Sentinels: every parameter a distinct value (see config.db.CompiledQuery).
_SENTINEL_SPLIT = {
    "rollup_first": dt.date(1900, 1, 22), "rollup_last": dt.date(1900, 2, 7), "split_day": dt.date(1900, 2, 3),
    **{name: dt.datetime(1900, 1, 1, 1, 1, i, tzinfo=dt.UTC) for i, name in enumerate(_SPLIT_FIELDS[3:], start=10)},
}  # fmt: skip

_ROLLUP_ONE = CompiledQuery(
    lambda pk, **cut: _window_rows(Q(customer_id=pk), _split_from(**cut)), pk=_SENTINEL_PK, **_SENTINEL_SPLIT
)
_LAST_LOGIN_ONE = CompiledQuery(lambda pk, now: _last_login_rows(Q(pk=pk), now), pk=_SENTINEL_PK, now=_SENTINEL_NOW)


def engagement_windows(*, customer_pks: Sequence[int], now: dt.datetime) -> dict[int, EngagementWindow]:
    """Engagement of many customers over the last 30 days and the 30 before,
    exact to the second (:mod:`customers.windows`), in two bounded queries: the
    whole days from the daily rollup plus the partial edge days from the raw
    events, summed in the database (one statement), and one index probe per
    customer for the last login at or before ``now``."""
    cut = split(now)
    if len(customer_pks) == 1:
        (pk,) = customer_pks
        rows = _ROLLUP_ONE.rows(pk=pk, **_split_params(cut))
        last_logins = _LAST_LOGIN_ONE.rows(pk=pk, now=now)
    else:
        rows = _window_rows(Q(customer_id__in=customer_pks), cut)
        last_logins = _last_login_rows(Q(pk__in=customer_pks), now)
    windows = {pk: EngagementWindow({}, {}, 0, None, {}) for pk in customer_pks}
    for customer_id, kind, feature, login_day, current, previous in rows:
        window = windows[customer_id]
        key = (kind, feature)
        if current:
            window.current[key] = window.current.get(key, 0) + current
        if previous:
            window.previous[key] = window.previous.get(key, 0) + previous
        if login_day is not None and current:
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
