"""Reads for the support app."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Avg, Case, Count, F, Max, Q, QuerySet, Sum, Value, When, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from config.db import CompiledQuery, PlannedQuery
from config.pg_types import any_of
from customers import windows
from support.models import OPEN_TICKET_STATUSES, Incident, IncidentStatus, Ticket, TicketPriority, TicketStatus

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
_RECENT_FIELDS = (
    "customer_id",
    "id",
    "subject",
    "status",
    "priority",
    "category",
    "created_at",
    "csat",
    "channel",
    "updated_at",
    "rank",
    "open_rank",
)
# The fields of TicketBrief, in order (the rows' columns 1 to 9).
TICKET_BRIEF_FIELDS = _RECENT_FIELDS[1:-2]


def _stats(customers: Q, window: windows.Window) -> QuerySet:
    is_open = Q(status__in=OPEN_TICKET_STATUSES)
    return (
        Ticket.objects.filter(customers)
        .values("customer_id", "category")
        .annotate(
            total=Count("pk"),
            open=Count("pk", filter=is_open),
            urgent_open=Count("pk", filter=is_open & Q(priority=TicketPriority.URGENT)),
            recent=Count("pk", filter=window.q("created_at")),
            csat_sum=Sum("csat"),
            csat_n=Count("csat"),
            first_response=Avg(F("first_response_at") - F("created_at")),
            first_response_n=Count("first_response_at"),
            last_created=Max("created_at"),
        )
        .order_by()
        .values_list(*_STATS_FIELDS)
    )


def _recent(customers: Q, limit: int, open_limit: int) -> QuerySet:
    """The ``limit`` newest tickets of each customer and, among them or not,
    their ``open_limit`` newest open ones: one pass, two row numbers."""
    is_open = Case(When(status__in=OPEN_TICKET_STATUSES, then=Value(True)), default=Value(False))
    newest = [F("created_at").desc(), F("pk").desc()]
    return (
        Ticket.objects.filter(customers)
        .annotate(
            rank=Window(RowNumber(), partition_by=F("customer_id"), order_by=newest),
            open_rank=Window(RowNumber(), partition_by=[F("customer_id"), is_open], order_by=newest),
        )
        .filter(Q(rank__lte=limit) | Q(status__in=OPEN_TICKET_STATUSES, open_rank__lte=open_limit))
        .order_by("customer_id", "rank")
        .values_list(*_RECENT_FIELDS)
    )


_SENTINEL_PK = -900_000_001
_STATS_ONE = CompiledQuery(
    lambda pk, start, end: _stats(Q(customer_id=pk), windows.Window(start, end)),
    pk=_SENTINEL_PK,
    start=dt.datetime(1900, 1, 2, tzinfo=dt.UTC),
    end=dt.datetime(1900, 1, 3, tzinfo=dt.UTC),
)
RECENT_TICKETS = 5
OPEN_TICKETS = 5
_RECENT_ONE = CompiledQuery(lambda pk: _recent(Q(customer_id=pk), RECENT_TICKETS, OPEN_TICKETS), pk=_SENTINEL_PK)


def ticket_stats_planned(*, customer_pk: int, window: windows.Window) -> list[PlannedQuery]:
    """The statement :func:`ticket_stats_by_category` runs for one customer (see :func:`config.db.prefetched`)."""
    return [PlannedQuery(_STATS_ONE, {"pk": customer_pk, "start": window.start, "end": window.end})]


def tickets_recent_planned(*, customer_pk: int) -> list[PlannedQuery]:
    """The statement :func:`tickets_recent` runs for one customer."""
    return [PlannedQuery(_RECENT_ONE, {"pk": customer_pk})]


def ticket_agents_rated_planned(*, customer_pk: int) -> list[PlannedQuery]:
    """The statement :func:`ticket_agents_rated` runs for one customer."""
    return [PlannedQuery(_AGENTS_ONE, {"pk": customer_pk})]


def ticket_stats_by_category(*, customer_pks: Sequence[int], window: windows.Window) -> dict[int, list[dict[str, Any]]]:
    """One grouped query for many customers: per customer and category, totals,
    open and urgent-open counts, CSAT sum and count, first-response time and
    tickets created in ``window`` (``recent``, see :mod:`customers.windows`)."""
    if len(customer_pks) == 1:
        (planned,) = ticket_stats_planned(customer_pk=customer_pks[0], window=window)
        rows = planned.query.rows(**planned.values)
    else:
        rows = _stats(any_of("customer_id", customer_pks), window)
    grouped: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row[0]].append(dict(zip(_STATS_FIELDS, row, strict=True)))
    return grouped


@dataclass(frozen=True, slots=True)
class RecentTickets:
    """A customer's newest tickets and newest open tickets, as rows of
    :data:`TICKET_BRIEF_FIELDS` (newest first). A ticket can be in both."""

    recent: list[tuple] = field(default_factory=list)
    open: list[tuple] = field(default_factory=list)


def tickets_recent(*, customer_pks: Sequence[int]) -> dict[int, RecentTickets]:
    """The :data:`RECENT_TICKETS` newest tickets and the :data:`OPEN_TICKETS`
    newest open tickets of each customer, in one query."""
    rows = _RECENT_ONE.rows(pk=customer_pks[0]) if len(customer_pks) == 1 else _recent(
        any_of("customer_id", customer_pks), RECENT_TICKETS, OPEN_TICKETS
    )
    grouped: dict[int, RecentTickets] = defaultdict(RecentTickets)
    for row in rows:
        found = grouped[row[0]]
        ticket = row[1:-2]
        if row[-2] <= RECENT_TICKETS:
            found.recent.append(ticket)
        if row[3] in OPEN_TICKET_STATUSES and row[-1] <= OPEN_TICKETS:
            found.open.append(ticket)
    return grouped


@dataclass(frozen=True, slots=True)
class ContactTickets:
    """One person's tickets: their newest and their open ones (rows of
    :data:`TICKET_BRIEF_FIELDS`, newest first) and totals over all of them."""

    recent: list[tuple] = field(default_factory=list)
    open: list[tuple] = field(default_factory=list)
    total: int = 0
    open_total: int = 0
    csat_sum: int = 0
    csat_n: int = 0


CONTACT_RECENT_TICKETS = 5
CONTACT_OPEN_TICKETS = 10


def contact_tickets(*, contact_pk: int) -> ContactTickets:
    """One query, whatever the person's history: the newest tickets and the
    newest open ones (row numbers over the ``(contact, created_at)`` index),
    with the totals as window aggregates over all their tickets."""
    is_open = Q(status__in=OPEN_TICKET_STATUSES)
    everyone = {"partition_by": F("contact_id")}
    rows = (
        _recent(Q(contact_id=contact_pk), CONTACT_RECENT_TICKETS, CONTACT_OPEN_TICKETS)
        .annotate(
            n_total=Window(Count("pk"), **everyone),
            n_open=Window(Count("pk", filter=is_open), **everyone),
            n_csat_sum=Window(Sum("csat"), **everyone),
            n_csat=Window(Count("csat"), **everyone),
        )
        .values_list(*_RECENT_FIELDS, "n_total", "n_open", "n_csat_sum", "n_csat")
    )
    found = ContactTickets()
    for row in rows:
        ticket, (rank, open_rank), totals = row[1:-6], row[-6:-4], row[-4:]
        if rank <= CONTACT_RECENT_TICKETS:
            found.recent.append(ticket)
        if ticket[2] in OPEN_TICKET_STATUSES and open_rank <= CONTACT_OPEN_TICKETS:
            found.open.append(ticket)
        found = ContactTickets(found.recent, found.open, totals[0], totals[1], totals[2] or 0, totals[3])
    return found


TICKET_FIELDS = (
    "id",
    "customer__external_id",
    "contact_id",
    "subject",
    "status",
    "priority",
    "category",
    "channel",
    "created_at",
    "updated_at",
    "first_response_at",
    "resolved_at",
    "reopened_count",
    "csat",
)


def ticket_get(*, ticket_id: int) -> dict[str, Any] | None:
    """A ticket with its customer's external id; one query."""
    row = Ticket.objects.filter(pk=ticket_id).values_list(*TICKET_FIELDS).first()
    return dict(zip(TICKET_FIELDS, row, strict=True)) if row else None


def incidents_active() -> list[dict[str, Any]]:
    return list(
        Incident.objects.exclude(status=IncidentStatus.RESOLVED)
        .filter(started_at__lte=timezone.now())
        .order_by("-started_at")
        .values("title", "impact", "status", "components", "affected_plans", "affected_regions", "started_at")[:50]
    )


_INCIDENT_FIELDS = ("id", "title", "impact", "status", "components", "affected_plans", "affected_regions", "started_at")
OPEN_INCIDENT_STATUSES = (IncidentStatus.INVESTIGATING, IncidentStatus.IDENTIFIED, IncidentStatus.MONITORING)


_OPEN_INCIDENTS = CompiledQuery(
    lambda until: Incident.objects.filter(status__in=OPEN_INCIDENT_STATUSES, started_at__lte=until)
    .order_by("-started_at", "-id")
    .values_list(*_INCIDENT_FIELDS)[:100],
    until=dt.datetime(9999, 12, 30, 23, 59, 1, tzinfo=dt.UTC),
)
_JSON_FIELDS = ("components", "affected_plans", "affected_regions")


def incidents_open_planned(*, until: dt.datetime | None = None) -> list[PlannedQuery]:
    """The statement :func:`incidents_open` runs (see :func:`config.db.prefetched`)."""
    return [PlannedQuery(_OPEN_INCIDENTS, {"until": until or dt.datetime(9999, 12, 31, tzinfo=dt.UTC)})]


def incidents_open(*, until: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Incidents not resolved yet that started by ``until`` (default: also
    those whose start is still ahead), newest first, at most 100: one index
    range on ``(status, started_at)``, compiled once per process."""
    rows = []
    (planned,) = incidents_open_planned(until=until)
    for row in planned.query.rows(**planned.values):
        item = dict(zip(_INCIDENT_FIELDS, row, strict=True))
        for name in _JSON_FIELDS:  # raw rows carry jsonb as text; the ORM path decodes it already
            if isinstance(item[name], str):
                item[name] = json.loads(item[name])
        rows.append(item)
    return rows


_SOLVED = (TicketStatus.SOLVED, TicketStatus.CLOSED)
_AGENT_FIELDS = (
    "customer_id",
    "assignee_id",
    "assignee__username",
    "assignee__first_name",
    "assignee__last_name",
    "solved",
    "csat_sum",
    "csat_n",
)


def _agents_rated(customers: Q) -> QuerySet:
    return (
        Ticket.objects.filter(customers, assignee__isnull=False, status__in=_SOLVED, csat__isnull=False)
        .values("customer_id", "assignee_id", "assignee__username", "assignee__first_name", "assignee__last_name")
        .annotate(solved=Count("pk"), csat_sum=Sum("csat"), csat_n=Count("csat"))
        .order_by()
        .values_list(*_AGENT_FIELDS)
    )


_AGENTS_ONE = CompiledQuery(lambda pk: _agents_rated(Q(customer_id=pk)), pk=_SENTINEL_PK)


def ticket_agents_rated(*, customer_pks: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """Per customer, each agent (assignee) who solved rated tickets of theirs:
    solved count, CSAT sum and count. One grouped query over the customers'
    tickets (the ``(customer, created_at)`` index), whatever their number."""
    rows = _AGENTS_ONE.rows(pk=customer_pks[0]) if len(customer_pks) == 1 else _agents_rated(any_of("customer_id", customer_pks))
    grouped: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row[0]].append(dict(zip(_AGENT_FIELDS, row, strict=True)))
    return grouped


def agent_workload(*, agent_pk: int, window: windows.Window, customer_pk: int | None = None) -> dict[str, Any]:
    """One agent's load and quality: open tickets assigned now; tickets created
    in ``window`` (count, solved, CSAT of those rated, first response times);
    and, with ``customer_pk``, their tickets with that customer. Two queries on
    the ``(assignee, created_at)`` index."""
    is_open = Q(status__in=OPEN_TICKET_STATUSES)
    recent = window.q("created_at")
    with_customer = Q(customer_id=customer_pk if customer_pk is not None else -1)
    totals = Ticket.objects.filter(assignee_id=agent_pk).aggregate(
        open=Count("pk", filter=is_open),
        tickets_recent=Count("pk", filter=recent),
        solved_recent=Count("pk", filter=recent & Q(status__in=_SOLVED)),
        csat_sum_recent=Sum("csat", filter=recent),
        csat_n_recent=Count("csat", filter=recent),
        customer_tickets=Count("pk", filter=with_customer),
        customer_csat_sum=Sum("csat", filter=with_customer),
        customer_csat_n=Count("csat", filter=with_customer),
    )
    responses = list(
        Ticket.objects.filter(recent, assignee_id=agent_pk, first_response_at__isnull=False)
        .annotate(wait=F("first_response_at") - F("created_at"))
        .values_list("wait", flat=True)[:10_000]
    )
    totals["first_responses_recent"] = sorted(w.total_seconds() for w in responses)
    return totals


def tickets_created_since(*, customer_pk: int, since: dt.datetime, limit: int = 20) -> list[dict[str, Any]]:
    """The customer's tickets created after ``since``, newest first (the
    ``(customer, created_at)`` index)."""
    return list(
        Ticket.objects.filter(customer_id=customer_pk, created_at__gt=since)
        .order_by("-created_at", "-id")
        .values("id", "subject", "status", "priority", "created_at")[:limit]
    )


def ticket_previous_contact_at(*, customer_pk: int) -> dt.datetime | None:
    """When the customer last got in touch before their newest ticket: the
    second newest ticket's creation (the newest is usually the conversation
    being answered). ``None`` with fewer than two tickets."""
    rows = list(Ticket.objects.filter(customer_id=customer_pk).order_by("-created_at", "-id").values_list("created_at", flat=True)[:2])
    return rows[1] if len(rows) == 2 else None
