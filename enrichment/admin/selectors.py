"""The admin's own database reads (HackSoft selectors): the customer search,
the 12-week health trend and the dashboard's set-based reads over the
denormalised :class:`~enrichment.history.models.CustomerHealth` and
:class:`~enrichment.history.models.HealthDaily` rows.

A customer's context itself is never read here: it comes from
``get_context_service().enrich_context`` (see :mod:`enrichment.admin.customer_page`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    Min,
    OrderBy,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)

from billing.models import Plan
from customers.models import Contact, Customer
from enrichment.admin.charts import weekly_points
from enrichment.history.models import CustomerHealth, HealthDaily

RENEWAL_FIELDS = (
    "customer_id", "customer__external_id", "customer__company_name", "health_score", "health_label",
    "churn_risk_level", "red_flags", "yellow_flags", "plan", "mrr", "renewal_date",
)
DROP_FIELDS = (
    "customer_id", "customer__external_id", "customer__company_name", "health_score", "before", "drop", "red_flags",
    "customer__health__top_reason",
)


def customer_search(*, queryset: QuerySet[Customer], term: str) -> QuerySet[Customer]:
    """Name, domain and external id contain ``term``, or a contact's email
    does. The email match is an ``id IN (subquery)``, not a join: no
    duplicate rows, no DISTINCT over the whole table; a full address uses
    the unique email index."""
    local, at, domain = term.partition("@")
    if at and local and "." in domain and " " not in term and "@" not in domain:
        contacts = Contact.objects.filter(email=term.lower())  # a full address: the unique index
    else:
        contacts = Contact.objects.filter(email__icontains=term)
    query = (
        Q(company_name__icontains=term)
        | Q(domain__icontains=term)
        | Q(external_id__icontains=term)
        | Q(pk__in=contacts.values("customer_id"))
    )
    return queryset.filter(query)


LABELS_AT_RISK = ("At Risk", "Critical")


def urgency_ordering() -> tuple[OrderBy | str, ...]:
    """The customer list's default order, most urgent first: Critical
    accounts, then other accounts with red flags, then At Risk, then the
    rest, then never computed; within each, the soonest renewal first (no
    renewal date last), then the lowest score, then the name. All from the
    joined ``CustomerHealth`` row: expressions in the one list query."""
    rank = Case(
        When(health__health_label="Critical", then=Value(0)),
        When(health__red_flags__gt=0, then=Value(1)),
        When(health__health_label="At Risk", then=Value(2)),
        When(health__isnull=False, then=Value(3)),
        default=Value(4),
    )
    # Wrapped, not bare F(): the list then marks no column header as sorted
    # (the rank has no column, so "sorted by renewal" would mislead).
    return (
        rank.asc(),
        ExpressionWrapper(F("health__renewal_date"), output_field=DateField()).asc(nulls_last=True),
        ExpressionWrapper(F("health__health_score"), output_field=IntegerField()).asc(nulls_last=True),
        ExpressionWrapper(F("company_name"), output_field=CharField()).asc(),
    )


def health_trend(*, customer_pk: int, today: dt.date, weeks: int = 12) -> list[tuple[dt.date, float | None]]:
    """Weekly average health over ``weeks`` weeks from the daily history: one query."""
    rows = HealthDaily.objects.filter(
        customer_id=customer_pk, day__gt=today - dt.timedelta(days=weeks * 7), day__lte=today
    ).values_list("day", "health_score")
    return weekly_points(rows, today=today, weeks=weeks)


def customer_count() -> int:
    return Customer.objects.count()


def health_label_counts() -> dict[str, int]:
    """How many stored health rows carry each label (one grouped query)."""
    return dict(
        CustomerHealth.objects.order_by().values_list("health_label").annotate(n=Count("pk")).values_list("health_label", "n")
    )


def health_computed_stats(*, stale_before: dt.datetime) -> dict[str, Any]:
    """``oldest`` and ``newest`` computation times, and how many rows are ``stale`` (older than ``stale_before``)."""
    return CustomerHealth.objects.aggregate(
        oldest=Min("computed_at"), newest=Max("computed_at"), stale=Count("pk", filter=Q(computed_at__lt=stale_before))
    )


def red_flag_renewals(*, today: dt.date, limit: int) -> list[dict[str, Any]]:
    """Customers with red flags renewing today or later, soonest (then least healthy) first."""
    return list(
        CustomerHealth.objects.filter(red_flags__gt=0, renewal_date__gte=today)
        .order_by("renewal_date", "health_score", "customer_id")
        .values(*RENEWAL_FIELDS)[:limit]
    )


def mrr_at_risk() -> dict[str, Any]:
    """The MRR of the accounts whose stored health is At Risk or Critical
    (``mrr``, a Decimal, 0 when none) and how many they are (``accounts``). One query."""
    row = CustomerHealth.objects.filter(health_label__in=LABELS_AT_RISK).aggregate(mrr=Sum("mrr"), accounts=Count("pk"))
    return {"mrr": row["mrr"] or 0, "accounts": row["accounts"]}


def latest_health_day() -> dt.date | None:
    """The newest day in the daily health history, if any."""
    return HealthDaily.objects.aggregate(day=Max("day"))["day"]


def health_drops(*, day: dt.date, since: dt.date, limit: int) -> list[dict[str, Any]]:
    """The biggest health drops from ``since`` to ``day``, largest first (``before``, ``drop`` per row)."""
    before = HealthDaily.objects.filter(customer_id=OuterRef("customer_id"), day=since).values("health_score")[:1]
    return list(
        HealthDaily.objects.filter(day=day)
        .annotate(before=Subquery(before))
        .annotate(drop=F("before") - F("health_score"))
        .filter(drop__gt=0)
        .order_by("-drop", "health_score", "customer_id")
        .values(*DROP_FIELDS)[:limit]
    )


def plan_choices() -> list[tuple[str, str]]:
    """Every plan as ``(code, name)``, cheapest tier first (a small table)."""
    return list(Plan.objects.order_by("tier", "code").values_list("code", "name"))
