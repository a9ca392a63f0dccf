"""Reads for the support app."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Avg, Count, F, Max, Q, Sum
from django.utils import timezone

from support.models import OPEN_TICKET_STATUSES, Incident, IncidentStatus, Ticket, TicketPriority


def ticket_stats_by_category(*, customer_pk: int, since: dt.datetime) -> list[dict[str, Any]]:
    """One grouped query: per category, totals, open and urgent-open counts,
    CSAT sum and count, first-response time and tickets since ``since``."""
    is_open = Q(status__in=OPEN_TICKET_STATUSES)
    return list(
        Ticket.objects.filter(customer_id=customer_pk)
        .values("category")
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
    )


def tickets_recent(*, customer_pk: int, limit: int = 5) -> list[dict[str, Any]]:
    return list(
        Ticket.objects.filter(customer_id=customer_pk)
        .order_by("-created_at", "-pk")
        .values("id", "subject", "status", "priority", "category", "created_at", "csat")[:limit]
    )


def incidents_active() -> list[dict[str, Any]]:
    return list(
        Incident.objects.exclude(status=IncidentStatus.RESOLVED)
        .filter(started_at__lte=timezone.now())
        .order_by("-started_at")
        .values("title", "impact", "status", "components", "affected_plans", "affected_regions", "started_at")[:50]
    )
