"""Training data from history: point-in-time facts and labels at past snapshot dates.

For each snapshot date ``d`` (the moment ``t``: midnight UTC starting ``d``)
every account with a subscription live at ``t`` gets one row: its
:class:`AccountFacts` as they stood at ``t`` and the label "canceled within
the next ``horizon`` days" (a cancellation dated in ``[d, d + horizon)``).
Nothing after ``t`` is read for the facts: every query below bounds its rows
by ``t`` (events by the daily rollup's days before ``d``, tickets by creation
and resolution time, invoices by issue, due and payment dates before ``d``;
a row dated ``d`` happened during ``d``, after ``t``).

Set-based: three grouped queries per snapshot (engagement rollup, tickets,
invoices) over all accounts at once, plus one read of the customers and of
the subscriptions for all snapshots; never a query per account.

A cancellation is churn when the account had no other live subscription the
day it took effect (an upgrade cancels the old subscription and starts a new
one the same day: not churn).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Count, Q, Sum

from billing.models import Invoice, InvoiceStatus, Subscription
from customers.models import Customer, EngagementDaily, EngagementKind
from customers.windows import midnight
from enrichment.churn.facts import AccountFacts
from support.models import OPEN_TICKET_STATUSES, Ticket, TicketPriority

DAY = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One account at one snapshot date: its facts and whether it churned
    within the horizon after it (``None`` when the label is not observable yet)."""

    customer_id: int
    day: dt.date
    facts: AccountFacts
    churned: bool | None


@dataclass(frozen=True, slots=True)
class _Sub:
    customer_id: int
    started_at: dt.date
    canceled_at: dt.date | None
    trial_ends_at: dt.date | None
    plan: str
    annual: bool
    seats: int

    def live_at(self, day: dt.date) -> bool:
        """Live at midnight starting ``day``: started before it, not canceled before it."""
        return self.started_at < day and (self.canceled_at is None or self.canceled_at >= day)

    def live_after(self, day: dt.date) -> bool:
        """Live at the end of ``day`` (it started by then and was not canceled by then)."""
        return self.started_at <= day and (self.canceled_at is None or self.canceled_at > day)


def snapshot_dates(*, today: dt.date, count: int, horizon_days: int) -> list[dt.date]:
    """``count`` monthly snapshot dates (first days of months), oldest first,
    the latest one at least ``horizon_days`` before ``today`` so that every
    label is observed."""
    latest = today - dt.timedelta(days=horizon_days)
    year, month = latest.year, latest.month
    dates = []
    for _ in range(count):
        dates.append(dt.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return sorted(dates)


def snapshots_build(*, days: Sequence[dt.date], horizon_days: int, today: dt.date, id_prefix: str = "") -> list[Snapshot]:
    """Every live account at every snapshot date, with its facts and label
    (only the accounts whose external id starts with ``id_prefix``, if given)."""
    customers = Customer.objects.filter(external_id__startswith=id_prefix) if id_prefix else Customer.objects.all()
    since = dict(customers.values_list("pk", "customer_since"))
    subs = {cid: items for cid, items in _subscriptions().items() if cid in since}
    rows: list[Snapshot] = []
    for day in sorted(days):
        rows.extend(_snapshots_on(day, subs, since, horizon_days=horizon_days, today=today))
    return rows


def facts_at(*, day: dt.date) -> dict[int, AccountFacts]:
    """The facts of every account live at midnight UTC of ``day`` (no labels)."""
    since = dict(Customer.objects.values_list("pk", "customer_since"))
    return {s.customer_id: s.facts for s in _snapshots_on(day, _subscriptions(), since, horizon_days=0, today=day)}


def _snapshots_on(
    day: dt.date, subs: dict[int, list[_Sub]], since: dict[int, dt.date], *, horizon_days: int, today: dt.date
) -> list[Snapshot]:
    live = {cid: sub for cid, items in subs.items() if (sub := _live(items, day)) is not None}
    if not live:
        return []
    engagement, tickets, invoices = _engagement(day), _tickets(day), _invoices(day)
    end = day + dt.timedelta(days=horizon_days)
    observed = end <= today
    rows = []
    for cid, sub in live.items():
        e, t, i = engagement.get(cid, {}), tickets.get(cid, {}), invoices.get(cid, {})
        facts = AccountFacts(
            logins_30d=e.get("logins_30d") or 0,
            logins_prev_30d=e.get("logins_prev_30d") or 0,
            active_days_30d=e.get("active_days_30d") or 0,
            features_used_30d=e.get("features_used_30d") or 0,
            api_calls_30d=e.get("api_calls_30d") or 0,
            errors_30d=e.get("errors_30d") or 0,
            tickets_30d=t.get("tickets_30d") or 0,
            open_tickets=t.get("open_tickets") or 0,
            urgent_open_tickets=t.get("urgent_open_tickets") or 0,
            avg_csat=round(t["csat_sum"] / t["csat_n"], 2) if t.get("csat_n") else None,
            failed_invoices_90d=i.get("failed_90d") or 0,
            overdue_invoices=i.get("overdue") or 0,
            trialing=sub.trial_ends_at is not None and day <= sub.trial_ends_at,
            plan=sub.plan,
            annual=sub.annual,
            seats=sub.seats,
            tenure_days=max(0, (day - since[cid]).days),
        )
        churned = _churned(sub, subs[cid], day, end)
        rows.append(Snapshot(cid, day, facts, churned if (observed or churned) else None))
    return rows


def _churned(sub: _Sub, items: list[_Sub], day: dt.date, end: dt.date) -> bool:
    """The live subscription was canceled in ``[day, end)`` with nothing live after it."""
    ended = sub.canceled_at
    if ended is None or not day <= ended < end:
        return False
    return not any(other is not sub and other.live_after(ended) for other in items)


def _live(items: list[_Sub], day: dt.date) -> _Sub | None:
    live = [s for s in items if s.live_at(day)]
    return max(live, key=lambda s: s.started_at) if live else None


def _subscriptions() -> dict[int, list[_Sub]]:
    by_customer: dict[int, list[_Sub]] = defaultdict(list)
    rows = Subscription.objects.values_list(
        "customer_id", "started_at", "canceled_at", "trial_ends_at", "plan__code", "billing_cycle", "seats_purchased"
    ).order_by()
    for cid, started, canceled, trial_end, plan, cycle, seats in rows.iterator(chunk_size=10_000):
        by_customer[cid].append(_Sub(cid, started, canceled, trial_end, plan, cycle == "annual", seats))
    return by_customer


def _engagement(day: dt.date) -> dict[int, dict]:
    """The rollup's days before ``day``: exactly the windows ending at its midnight."""
    current = Q(day__gte=day - 30 * DAY)
    login = Q(kind=EngagementKind.LOGIN)
    rows = (
        EngagementDaily.objects.filter(day__gte=day - 60 * DAY, day__lt=day)
        .values("customer_id")
        .annotate(
            logins_30d=Sum("count", filter=current & login),
            logins_prev_30d=Sum("count", filter=~current & login),
            active_days_30d=Count("day", filter=current & login, distinct=True),
            features_used_30d=Count("feature", filter=current & Q(kind=EngagementKind.FEATURE_USE) & ~Q(feature=""), distinct=True),
            api_calls_30d=Sum("count", filter=current & Q(kind=EngagementKind.API_CALL)),
            errors_30d=Sum("count", filter=current & Q(kind=EngagementKind.ERROR)),
        )
        .order_by()
    )
    return {row.pop("customer_id"): row for row in rows.iterator(chunk_size=10_000)}


def _tickets(day: dt.date) -> dict[int, dict]:
    t = midnight(day)
    open_then = Q(resolved_at__gt=t) | Q(resolved_at__isnull=True, status__in=OPEN_TICKET_STATUSES)
    rated = Q(resolved_at__lte=t)
    rows = (
        Ticket.objects.filter(created_at__lte=t)
        .values("customer_id")
        .annotate(
            tickets_30d=Count("pk", filter=Q(created_at__gt=t - 30 * DAY)),
            open_tickets=Count("pk", filter=open_then),
            urgent_open_tickets=Count("pk", filter=open_then & Q(priority=TicketPriority.URGENT)),
            csat_sum=Sum("csat", filter=rated),
            csat_n=Count("csat", filter=rated),
        )
        .order_by()
    )
    return {row.pop("customer_id"): row for row in rows.iterator(chunk_size=10_000)}


def _invoices(day: dt.date) -> dict[int, dict]:
    unpaid_then = ~Q(status=InvoiceStatus.PAID) | Q(paid_at__gte=day)
    rows = (
        Invoice.objects.filter(issued_at__lt=day)
        .values("customer_id")
        .annotate(
            failed_90d=Count("pk", filter=Q(status=InvoiceStatus.FAILED, issued_at__gte=day - 90 * DAY, due_at__lt=day)),
            overdue=Count("pk", filter=Q(due_at__lt=day) & unpaid_then),
        )
        .order_by()
    )
    return {row.pop("customer_id"): row for row in rows.iterator(chunk_size=10_000)}
