"""A scripted context history for the demo's ``customer_at_risk`` (``seed_demo``).

The changes API and the admin's timeline read :class:`~enrichment.history.models.ContextSnapshot`
rows, which the service writes as contexts change. A fresh demo database has
only today's, so this writes the weeks before, derived from the current
context, in the order the demo's data tells the story:

1. five weeks ago: a fair account (before the login drop and the tickets);
2. when the first urgent ticket ("Data export failing since Monday") arrived;
3. two days ago: the renewal payment failed (subscription past due);
4. the current context, which also has the second urgent ticket.

So ``GET /api/v1/customers/customer_at_risk/context/changes/?since_last_contact=true``
(since that first ticket) lists the payment failure, the score drop and the
new ticket. Idempotent: nothing is written when older snapshots exist.
"""

from __future__ import annotations

import copy
import datetime as dt

from django.utils import timezone

from customers.models import Customer
from enrichment.engine.service import get_context_service
from enrichment.history.models import ContextSnapshot
from enrichment.history.snapshots import content_hash, snapshot_data
from enrichment.rules.scoring import health_label
from support.models import Ticket

DEMO_CUSTOMER = "customer_at_risk"


def _with(data: dict, **changes) -> dict:
    out = copy.deepcopy(data)
    out.update(changes)
    if "score" in changes:
        out["label"] = health_label(out["score"])
    return out


def _flags(data: dict, *, drop: set[str] = frozenset(), keep_only: set[str] | None = None) -> list:
    return [[code, level] for code, level in data["flags"] if code not in drop and (keep_only is None or code in keep_only)]


def context_history_backfill(*, customer_id: str = DEMO_CUSTOMER) -> int:
    """Write the scripted snapshots; returns how many (0 when already there)."""
    customer = Customer.objects.filter(external_id=customer_id).values("pk").first()
    if customer is None:
        return 0
    tickets = list(Ticket.objects.filter(customer_id=customer["pk"]).order_by("created_at", "id").values("id", "created_at", "status"))
    open_tickets = [t for t in tickets if t["status"] in ("open", "pending")]
    if len(open_tickets) < 2:
        return 0
    first, second = open_tickets[-2], open_tickets[-1]
    if ContextSnapshot.objects.filter(customer_id=customer["pk"], created_at__lte=first["created_at"]).exists():
        return 0
    context = get_context_service().enrich_context(customer_id, force_refresh=True)  # writes today's snapshot
    now = timezone.now()
    steps = _scripted_steps(snapshot_data(context), tickets=tickets, first=first, second=second, now=now)
    rows = [
        ContextSnapshot(customer_id=customer["pk"], created_at=at, content_hash=content_hash(data), data=data)
        for at, data in steps
        if at < now
    ]
    ContextSnapshot.objects.bulk_create(rows)
    return len(rows)


def _scripted_steps(current: dict, *, tickets: list[dict], first: dict, second: dict, now: dt.datetime) -> list[tuple[dt.datetime, dict]]:
    """The three earlier snapshots (time, data), derived from the current one: fair five weeks ago,
    at the first urgent ticket, and after the payment failure but before the second ticket."""
    before_second = [i for i in current["tickets"] if i != second["id"]]
    payment_at = max(first["created_at"] + dt.timedelta(hours=6), now - dt.timedelta(days=2))
    paid_up = _flags(current, drop={"payment_failed"})
    score_paid = min(100, current["score"] + 15)
    if score_paid >= 60:
        paid_up = [f for f in paid_up if f[0] != "renewal_at_risk"]
    five_weeks = now - dt.timedelta(days=35)
    old_ids = [t["id"] for t in reversed(tickets) if t["created_at"] <= five_weeks][:5]  # newest first, like the context
    steps = [
        (
            five_weeks,
            _with(
                current,
                score=min(100, current["score"] + 38),
                churn=round(max(0.0, current["churn"] - 0.45), 2),
                flags=_flags(current, keep_only={"seats_underused"}),
                status="active",
                open=0,
                urgent=0,
                tickets=old_ids,
                incidents=[],
            ),
        ),
        (
            first["created_at"],
            _with(
                current,
                score=score_paid,
                churn=round(max(0.0, current["churn"] - 0.25), 2),
                flags=paid_up,
                status="active",
                open=max(0, current["open"] - 1),
                urgent=max(0, current["urgent"] - 1),
                tickets=before_second,
            ),
        ),
        (
            min(payment_at, second["created_at"] - dt.timedelta(minutes=5)),
            _with(
                current,
                score=min(100, current["score"] + 3),
                open=max(0, current["open"] - 1),
                urgent=max(0, current["urgent"] - 1),
                tickets=before_second,
            ),
        ),
    ]
    return steps
