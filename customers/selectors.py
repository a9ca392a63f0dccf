"""Reads for the customers app. Enrichment providers call these."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Count, DateField, Exists, F, Max, OuterRef, Q, QuerySet, Sum, Value, When
from django.db.models.functions import TruncDate

from config.db import CompiledQuery, PlannedQuery
from config.pg_types import any_of
from customers.last_login import last_login_rows
from customers.models import Contact, Customer, EngagementDaily, EngagementEvent, EngagementKind
from customers.windows import Split, Window, midnight, split, utc_day, within_months


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


def customer_ref_planned(*, external_id: str) -> list[PlannedQuery]:
    """The statement :func:`customer_ref_get` runs (see :func:`config.db.prefetched`)."""
    return [PlannedQuery(_REF_QUERY, {"external_id": external_id})]


def customer_ref_get(*, external_id: str) -> CustomerRef | None:
    rows = _REF_QUERY.rows(external_id=external_id)
    return CustomerRef(*rows[0]) if rows else None


def customer_refs_get(*, external_ids: Sequence[str]) -> dict[str, CustomerRef]:
    """The customers with these external ids (unknown ids are absent). One
    customer, the single context's cold path, runs the compiled statement."""
    if len(external_ids) == 1:
        rows = _REF_QUERY.rows(external_id=external_ids[0])
    else:
        rows = Customer.objects.filter(any_of("external_id", external_ids)).values_list(*_REF_FIELDS)
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


@dataclass(frozen=True, slots=True)
class ContactRef:
    """A person at a customer, as the requester section shows them."""

    pk: int
    customer_pk: int
    customer_external_id: str
    email: str
    name: str
    role: str
    title: str
    account_roles: tuple[str, ...]


_CONTACT_FIELDS = ("pk", "customer_id", "customer__external_id", "email", "name", "role", "title", "account_roles")


def contact_get(*, email: str | None = None, pk: int | None = None) -> ContactRef | None:
    """The contact with this email (any case) or primary key; one query."""
    lookup = {"email": email.strip().lower()} if email is not None else {"pk": pk}
    row = Contact.objects.filter(**lookup).values_list(*_CONTACT_FIELDS).first()
    if row is None:
        return None
    roles = row[-1] if isinstance(row[-1], list) else []
    return ContactRef(*row[:-1], account_roles=tuple(str(role) for role in roles))


@dataclass(frozen=True, slots=True)
class ContactActivity:
    """One person's own product use: their last login (ever, up to ``now``)
    and, in the window, their logins and feature use (most used first)."""

    last_login_at: dt.datetime | None
    logins: int
    features: tuple[tuple[str, int], ...]


def contact_activity(*, contact_pk: int, window: Window) -> ContactActivity:
    """One query on the ``(contact, occurred_at)`` index, whatever the
    customer's size: the window's events grouped by kind and feature, with the
    last login among them; a second one, for the last login before the window,
    only when there is none in it (it reads every monthly partition of the
    events, and nothing before the retention: ``None`` then)."""
    months = within_months("occurred_at", utc_day(window.start), utc_day(window.end))
    grouped = (
        EngagementEvent.objects.filter(window.q("occurred_at"), months, contact_id=contact_pk)
        .filter(kind__in=(EngagementKind.LOGIN, EngagementKind.FEATURE_USE))
        .values_list("kind", "feature")
        .annotate(n=Count("pk"), last=Max("occurred_at"))
        .order_by()
    )
    logins, usage, last_login = 0, {}, None
    for kind, feature, n, last in grouped:
        if kind == EngagementKind.LOGIN:
            logins += n
            last_login = last if last_login is None else max(last_login, last)
        elif feature:
            usage[feature] = usage.get(feature, 0) + n
    if last_login is None:
        last_login = (
            EngagementEvent.objects.filter(contact_id=contact_pk, kind=EngagementKind.LOGIN, occurred_at__lte=window.start)
            .order_by("-occurred_at")
            .values_list("occurred_at", flat=True)
            .first()
        )
    ranked = sorted(usage.items(), key=lambda item: (-item[1], item[0]))
    return ContactActivity(last_login_at=last_login, logins=logins, features=tuple(ranked[:5]))


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


def _rollup_rows(customers: Q, cut: Split) -> QuerySet:
    """Per customer, kind and feature: the rollup's sums over the days of both
    windows (see :class:`~customers.windows.Split`); logins of the current
    days kept per day (for the sparkline and active days). At most ~40 rows
    per customer, however busy."""
    recent = Q(day__gte=cut.current_from)
    login_day = Case(When(recent & Q(kind=EngagementKind.LOGIN), then=F("day")), default=None, output_field=DateField())
    first, last = cut.rollup_days
    return (
        EngagementDaily.objects.filter(customers, day__gte=first, day__lte=last)
        .values("customer_id", "kind", "feature")
        .annotate(login_day=login_day)
        .values_list("customer_id", "kind", "feature", "login_day")
        .annotate(current=Sum("count", filter=recent), previous=Sum("count", filter=~recent))
        .order_by()
    )


def _times(sign: int) -> Any:
    return Count("*") * sign if sign else Value(0)


def _raw_rows(customers: Q, cut: Split, days: tuple[dt.date, ...]) -> list[QuerySet]:
    """The signed corrections of the rollup's sums from the raw events at the
    windows' edges (the table in :class:`~customers.windows.Split`): at most
    half a day at two edges. One grouped query per edge, each (a part of one
    UTC day, ``days``: :attr:`~customers.windows.Split.edge_days`) bounded by
    its month too (:func:`~customers.windows.within_months`): on PostgreSQL
    each reads one range of the ``(customer, occurred_at)`` index in one
    monthly partition of the events, pruned when the statement is planned."""
    head, middle, tail = cut.head_q("occurred_at"), cut.split_q("occurred_at"), cut.tail_q("occurred_at")
    # (edge, sign for the current window, sign for the previous one)
    if cut.early:
        edges = ((head, 0, -1), (middle, -1, 1), (tail, -1, 0))
    else:
        edges = ((head, 0, 1), (middle, 1, -1), (tail, -1, 0))
    login_day = Case(When(kind=EngagementKind.LOGIN, then=TruncDate("occurred_at", tzinfo=dt.UTC)), default=None,
                     output_field=DateField())  # fmt: skip
    return [
        EngagementEvent.objects.filter(customers, edge, within_months("occurred_at", day))
        .values("customer_id", "kind", "feature")
        .annotate(login_day=login_day)
        .values_list("customer_id", "kind", "feature", "login_day")
        .annotate(current=_times(current), previous=_times(previous))
        .order_by()
        for (edge, current, previous), day in zip(edges, days, strict=True)
    ]


def _window_rows(customers: Q, cut: Split, days: tuple[dt.date, ...], *extra: QuerySet) -> QuerySet:
    """The rollup's rows and the raw corrections (and ``extra`` rows of the same shape), one statement."""
    return _rollup_rows(customers, cut).union(*_raw_rows(customers, cut, days), *extra, all=True)


_SENTINEL_PK = -900_000_001


_SPLIT_FIELDS = ("rollup_first", "rollup_last", "current_from", "previous_start", "current_start", "current_end",
                 "head_edge", "split_edge", "tail_edge")  # fmt: skip


def _split_params(cut: Split) -> dict[str, Any]:
    """A split as the named parameters of the compiled statement."""
    first, last = cut.rollup_days
    values = (first, last, cut.current_from, cut.previous.start, cut.current.start, cut.current.end,
              cut.head_edge, cut.split_edge, cut.tail_edge)  # fmt: skip
    return dict(zip(_SPLIT_FIELDS, values, strict=True))


def _split_from(early: bool, **p: Any) -> Split:
    return Split(Window(p["current_start"], p["current_end"]), Window(p["previous_start"], p["current_start"]), early,
                 (p["rollup_first"], p["rollup_last"]), p["current_from"], p["head_edge"], p["split_edge"], p["tail_edge"])  # fmt: skip


# Sentinels: every parameter a distinct value (see config.db.CompiledQuery).
_SENTINEL_SPLIT = {
    "rollup_first": dt.date(1900, 1, 22), "rollup_last": dt.date(1900, 2, 7), "current_from": dt.date(1900, 2, 3),
    **{name: dt.datetime(1900, 1, 1, 1, 1, i, tzinfo=dt.UTC) for i, name in enumerate(_SPLIT_FIELDS[3:], start=10)},
}  # fmt: skip

# One compiled statement per half of the day (the raw corrections differ in shape) and months of the edges (written
# into it: customers.windows.within_months).
_WINDOW_ONE: dict[tuple, CompiledQuery] = {}


def _window_one(cut: Split) -> CompiledQuery:
    months = tuple(day.replace(day=1) for day in cut.edge_days)
    key = (cut.early, months)
    found = _WINDOW_ONE.get(key)
    if found is None:
        if len(_WINDOW_ONE) > 64:  # a few new ones a month
            _WINDOW_ONE.clear()
        early = cut.early
        found = _WINDOW_ONE.setdefault(key, CompiledQuery(
            lambda pk, **p: _window_rows(Q(customer_id=pk), _split_from(early, **p), months),
            pk=_SENTINEL_PK, **_SENTINEL_SPLIT,
        ))  # fmt: skip
    return found


_LAST_LOGIN_ONE = CompiledQuery(
    lambda pk, now, today_start, today: last_login_rows(Q(pk=pk), now=now, today_start=today_start, today=today),
    pk=_SENTINEL_PK, now=dt.datetime(1900, 3, 4, 5, 6, 7, tzinfo=dt.UTC), today_start=dt.datetime(1900, 3, 4, tzinfo=dt.UTC),
    today=dt.date(1900, 3, 4),
)  # fmt: skip


def engagement_windows_planned(*, customer_pk: int, now: dt.datetime) -> list[PlannedQuery]:
    """The statements :func:`engagement_windows` runs for one customer (see :func:`config.db.prefetched`):
    independent of each other, so that they share a round trip."""
    cut, today = split(now), utc_day(now)
    return [
        PlannedQuery(_window_one(cut), {"pk": customer_pk, **_split_params(cut)}),
        PlannedQuery(_LAST_LOGIN_ONE, {"pk": customer_pk, "now": now, "today_start": midnight(today), "today": today}),
    ]


def engagement_windows(*, customer_pks: Sequence[int], now: dt.datetime) -> dict[int, EngagementWindow]:
    """Engagement of many customers over the last 30 days and the 30 before,
    exact to the second (:mod:`customers.windows`), in two bounded statements:
    the daily rollup's sums corrected at the windows' edges by the raw events
    of at most half a day each, summed in the database, and the last login at
    or before ``now`` (:mod:`customers.last_login`: read on one UTC day of raw
    events, however many monthly partitions they have)."""
    cut = split(now)
    if len(customer_pks) == 1:
        window_query, last_login_query = engagement_windows_planned(customer_pk=customer_pks[0], now=now)
        rows = window_query.query.rows(**window_query.values)
        last_logins = last_login_query.query.rows(**last_login_query.values)
    else:
        today = utc_day(now)
        rows = _window_rows(any_of("customer_id", customer_pks), cut, cut.edge_days)
        last_logins = last_login_rows(any_of("pk", customer_pks), now=now, today_start=midnight(today), today=today)
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
        w = windows[pk]  # corrections may have brought some sums to zero
        current, previous = {k: n for k, n in w.current.items() if n}, {k: n for k, n in w.previous.items() if n}
        days = {day: n for day, n in w.logins_by_day.items() if n}
        windows[pk] = EngagementWindow(current, previous, len(days), last, days)
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
