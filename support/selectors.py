"""Reads for the support app."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.db.models import Avg, Count, F, Max, Q, QuerySet, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from config.db import CompiledQuery
from support.models import OPEN_TICKET_STATUSES, Incident, IncidentStatus, Ticket, TicketPriority

_STATS_FIELDS = (
    "customer_id",
    "category",
    "total",
    "open",
    "urgent_open",
    "recent",
    "csat_sum",
    "csat_n",
    "first_response",
    "first_response_n",
    "last_created",
)
_RECENT_FIELDS = ("customer_id", "id", "subject", "status", "priority", "category", "created_at", "csat")


def _stats(customers: Q, since: dt.datetime) -> QuerySet:
    is_open = Q(status__in=OPEN_TICKET_STATUSES)
    return (
        Ticket.objects.filter(customers)
        .values("customer_id", "category")
        .annotate(
            total=Count("pk"),
            open=Count("pk", filter=is_open),
            urgent_open=Count("pk", filter=is_open & Q(priority=TicketPriority.URGENT)),
            recent=Count("pk", filter=Q(created_at__gte=since)),
            csat_sum=Sum("csat"),
            csat_n=Count("csat"),
            first_response=Avg(F("first_response_at") - F("created_at")),
            first_response_n=Count("first_response_at"),
            last_created=Max("created_at"),
        )
        .order_by()
        .values_list(*_STATS_FIELDS)
    )


def _recent(customers: Q, limit: int) -> QuerySet:
    return (
        Ticket.objects.filter(customers)
        .annotate(rank=Window(RowNumber(), partition_by=F("customer_id"), order_by=[F("created_at").desc(), F("pk").desc()]))
        .filter(rank__lte=limit)
        .order_by("customer_id", "rank")
        .values_list(*_RECENT_FIELDS)
    )


_SENTINEL_PK = -900_000_001
_STATS_ONE = CompiledQuery(
    lambda pk, since: _stats(Q(customer_id=pk), since), pk=_SENTINEL_PK, since=dt.datetime(1900, 1, 2, tzinfo=dt.UTC)
)
_RECENT_ONE = CompiledQuery(lambda pk: _recent(Q(customer_id=pk), 5), pk=_SENTINEL_PK)


def ticket_stats_by_category(*, customer_pks: Sequence[int], since: dt.datetime) -> dict[int, list[dict[str, Any]]]:
    """One grouped query for many customers: per customer and category, totals,
    open and urgent-open counts, CSAT sum and count, first-response time and
    tickets since ``since``."""
    if len(customer_pks) == 1:
        rows = _STATS_ONE.rows(pk=customer_pks[0], since=since)
    else:
        rows = _stats(Q(customer_id__in=customer_pks), since)
    grouped: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row[0]].append(dict(zip(_STATS_FIELDS, row, strict=True)))
    return grouped


def tickets_recent(*, customer_pks: Sequence[int], limit: int = 5) -> dict[int, list[tuple]]:
    """The latest ``limit`` tickets of each customer, in one query: tuples of
    (id, subject, status, priority, category, created_at, csat)."""
    rows = (
        _RECENT_ONE.rows(pk=customer_pks[0]) if len(customer_pks) == 1 and limit == 5 else _recent(Q(customer_id__in=customer_pks), limit)
    )
    grouped: dict[int, list[tuple]] = defaultdict(list)
    for row in rows:
        grouped[row[0]].append(row[1:])
    return grouped


def incidents_active() -> list[dict[str, Any]]:
    return list(
        Incident.objects.exclude(status=IncidentStatus.RESOLVED)
        .filter(started_at__lte=timezone.now())
        .order_by("-started_at")
        .values("title", "impact", "status", "components", "affected_plans", "affected_regions", "started_at")[:50]
    )
