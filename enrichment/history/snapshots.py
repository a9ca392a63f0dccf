"""Context versioning: the substance of each context, and what changed.

**Snapshots.** :func:`snapshot_data` boils a context down to what matters for
"what changed since we last spoke": health score and label, churn risk, flag
codes and levels, plan, subscription status, seats, renewal date, open and
urgent tickets, the latest ticket ids and the incidents affecting the customer.
Its SHA-1 is the ``content_hash``. Whenever the service computes a context it
upserts the customer's :class:`~enrichment.history.models.CustomerHealth` row and, in
the same statement, inserts a :class:`~enrichment.history.models.ContextSnapshot`
only if the row's previous hash differs (``enrichment.history.services``): a refresh
that changes nothing in substance stores nothing, and costs no extra round trip.

**Changes.** :func:`context_changes` compares the snapshot in force at
``since`` (the latest one at or before it; else the first one after it) with
the current context, and lists the snapshots in between as a timeline. With
``since_last_contact`` the moment is the customer's previous ticket (the one
before the newest: the newest is usually the conversation being answered).
New tickets come from the tickets table (every one created after ``since``),
the rest from the snapshots.

:func:`context_changes` and :func:`snapshot_timeline` read through
:mod:`enrichment.history.selectors` (the snapshots) and :mod:`support.selectors`
(the tickets); everything else here is pure (no queries).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from enrichment.context.enriched import EnrichedContext
from enrichment.history.selectors import context_snapshot_rows, context_snapshots_latest
from support.selectors import ticket_previous_contact_at, tickets_created_since

MAX_TIMELINE = 50
MAX_NEW_TICKETS = 20
_LEVEL_WORD = {"red": "critical", "yellow": "warning", "green": "opportunity"}


# -- the substance of a context -------------------------------------------------------------------
def snapshot_data(context: EnrichedContext) -> dict[str, Any]:
    health = context.account_health
    sub = context.subscription_details
    support = context.support_history
    return {
        "score": health.health_score,
        "label": health.health_label,
        "churn": health.churn_risk,
        "flags": sorted([flag.code, flag.level] for flag in health.flags),
        "plan": sub.plan or context.customer_intelligence.plan,
        "status": sub.status,
        "seats": [sub.seats_used, sub.seats_purchased],
        "renewal": sub.renewal_date.isoformat() if sub.renewal_date else None,
        "open": support.open_tickets,
        "urgent": support.urgent_open_tickets,
        "tickets": [ticket.id for ticket in support.recent_tickets],
        "incidents": sorted([i.id, i.title] for i in context.product_status.active_incidents if i.affects_customer),
    }


def content_hash(data: Mapping[str, Any]) -> str:
    raw = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha1(raw.encode()).hexdigest()  # noqa: S324 - a content tag, not a secret


def compact_json(data: Mapping[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), default=str)


# -- differences --------------------------------------------------------------------------------------
_ACCOUNT_FIELDS = (
    ("plan", "plan", "Plan"),
    ("status", "subscription_status", "Subscription status"),
    ("renewal", "renewal_date", "Renewal date"),
)


def _pct(churn: float | None) -> str:
    return "n/a (churned)" if churn is None else f"{round(churn * 100)}%"


def _churn_delta(before: float | None, after: float | None) -> float | None:
    """None when either side has no churn risk (a canceled account has churned)."""
    return None if before is None or after is None else round(after - before, 2)


def _flags(data: Mapping[str, Any]) -> dict[str, str]:
    return dict(data.get("flags", []))


def diff(before: Mapping[str, Any], after: Mapping[str, Any], *, hide_churn: bool = False) -> list[dict[str, Any]]:
    """The changes from one snapshot to the next, as typed items."""
    items: list[dict[str, Any]] = []
    if before.get("score") != after.get("score"):
        items.append({"kind": "health_score", "from": before.get("score"), "to": after.get("score"),
                      "delta": (after.get("score") or 0) - (before.get("score") or 0)})  # fmt: skip
    if not hide_churn and before.get("churn") != after.get("churn"):
        items.append({"kind": "churn_risk", "from": before.get("churn"), "to": after.get("churn"),
                      "delta": _churn_delta(before.get("churn"), after.get("churn"))})  # fmt: skip
    old_flags, new_flags = _flags(before), _flags(after)
    for code, level in new_flags.items():
        if code not in old_flags:
            items.append({"kind": "flag_raised", "code": code, "level": level})
        elif old_flags[code] != level:
            items.append({"kind": "flag_level", "code": code, "from": old_flags[code], "to": level})
    for code, level in old_flags.items():
        if code not in new_flags:
            items.append({"kind": "flag_cleared", "code": code, "level": level})
    for key, kind, _label in _ACCOUNT_FIELDS:
        if before.get(key) != after.get(key):
            items.append({"kind": kind, "from": before.get(key), "to": after.get(key)})
    old_seats, new_seats = before.get("seats") or [0, 0], after.get("seats") or [0, 0]
    if old_seats[1] != new_seats[1]:
        items.append({"kind": "seats_purchased", "from": old_seats[1], "to": new_seats[1]})
    if old_seats[0] != new_seats[0]:
        items.append({"kind": "seats_used", "from": old_seats[0], "to": new_seats[0]})
    old_tickets = set(before.get("tickets") or [])
    for ticket_id in after.get("tickets") or []:  # newest first: new ones precede the first one seen before
        if ticket_id in old_tickets:
            break
        items.append({"kind": "new_ticket", "id": ticket_id})
    old_incidents = dict(before.get("incidents") or [])
    new_incidents = dict(after.get("incidents") or [])
    for incident_id, title in new_incidents.items():
        if incident_id not in old_incidents:
            items.append({"kind": "new_incident", "id": incident_id, "title": title})
    for incident_id, title in old_incidents.items():
        if incident_id not in new_incidents:
            items.append({"kind": "incident_resolved", "id": incident_id, "title": title})
    return items


def describe(item: Mapping[str, Any]) -> str:
    """One human line for a change item (no customer text except titles,
    which the prompt renderer passes through ``safe_text``)."""
    kind = item["kind"]
    if kind == "health_score":
        verb = "dropped" if item["delta"] < 0 else "rose"
        return f"Health score {verb} {item['from']} → {item['to']} ({item['delta']:+d})"
    if kind == "churn_risk":
        return f"Churn risk {_pct(item['from'])} → {_pct(item['to'])}"
    if kind == "flag_raised":
        return f"New {_LEVEL_WORD.get(item['level'], item['level'])}: {item.get('message') or item['code'].replace('_', ' ')}"
    if kind == "flag_cleared":
        return f"Resolved {_LEVEL_WORD.get(item['level'], item['level'])}: {item['code'].replace('_', ' ')}"
    if kind == "flag_level":
        return f"{item['code'].replace('_', ' ').capitalize()}: {item['from']} → {item['to']}"
    if kind == "new_ticket":
        subject = item.get("subject")
        extra = f" {subject}" if subject else ""
        detail = ", ".join(x for x in (item.get("priority"), item.get("status")) if x)
        return f"New ticket #{item['id']}{extra}" + (f" ({detail})" if detail else "")
    if kind == "new_incident":
        return f"New incident affecting them: {item['title']}"
    if kind == "incident_resolved":
        return f"Incident over: {item['title']}"
    label = {"plan": "Plan", "subscription_status": "Subscription status", "renewal_date": "Renewal date",
             "seats_purchased": "Seats purchased", "seats_used": "Seats in use"}.get(kind, kind)  # fmt: skip
    return f"{label}: {item['from'] or 'none'} → {item['to'] or 'none'}"


# Why a health score fell, most telling first (a lost green flag is a lost opportunity).
_DROP_ORDER = {"flag_raised:red": 0, "flag_level": 1, "subscription_status": 2, "flag_raised:yellow": 3, "new_incident": 4,
               "flag_cleared:green": 5, "seats_used": 6, "seats_purchased": 7, "plan": 8, "new_ticket": 9}  # fmt: skip


def drop_reasons(before: Mapping[str, Any], after: Mapping[str, Any], *, limit: int = 4) -> list[str]:
    """What changed from one snapshot to a later, less healthy one that
    explains the fall: flags raised or worsened, the subscription status,
    incidents, green flags lost, seats, plan, new tickets. Score, churn and
    renewal moves are left out (they are the outcome, not the cause).
    At most ``limit`` lines, the last saying how many more there were."""
    ranked = []
    for item in diff(before, after):
        key = f"{item['kind']}:{item['level']}" if item["kind"] in ("flag_raised", "flag_cleared") else item["kind"]
        if key in _DROP_ORDER:
            ranked.append((_DROP_ORDER[key], len(ranked), describe(item)))
    lines = [line for _rank, _n, line in sorted(ranked)]
    if len(lines) > limit:
        return [*lines[: limit - 1], f"and {len(lines) - limit + 1} more changes"]
    return lines


# -- the changes answer --------------------------------------------------------------------------------
@dataclass
class ContextChanges:
    customer_id: str
    since: dt.datetime | None
    since_last_contact: bool
    last_contact_at: dt.datetime | None
    baseline_at: dt.datetime | None
    current_at: dt.datetime | None
    items: list[dict[str, Any]] = field(default_factory=list)
    new_tickets: list[dict[str, Any]] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    hide_churn: bool = False
    current: dict[str, Any] = field(default_factory=dict)
    baseline: dict[str, Any] | None = None

    @property
    def changed(self) -> bool:
        return bool(self.items or self.new_tickets)

    def lines(self) -> list[str]:
        """The summary: one line per change, tickets last."""
        lines = [describe(item) for item in self.items if item["kind"] != "new_ticket"]
        lines += [describe({"kind": "new_ticket", **ticket}) for ticket in self.new_tickets]
        return lines

    def to_dict(self) -> dict[str, Any]:
        def delta(kind: str) -> dict[str, Any] | None:
            if self.baseline is None:
                return None
            key = {"health_score": "score", "churn_risk": "churn"}[kind]
            before, after = self.baseline.get(key), self.current.get(key)
            if kind == "churn_risk" and (before is None or after is None):
                return {"from": before, "to": after, "delta": None}
            change = (after or 0) - (before or 0)
            return {"from": before, "to": after, "delta": round(change, 2) if isinstance(change, float) else change}

        def iso(value: dt.datetime | None) -> str | None:
            return value.isoformat() if value else None

        data: dict[str, Any] = {
            "customer_id": self.customer_id,
            "since": iso(self.since),
            "since_last_contact": self.since_last_contact,
            "last_contact_at": iso(self.last_contact_at),
            "baseline_at": iso(self.baseline_at),
            "current_at": iso(self.current_at),
            "changed": self.changed,
            "health_score": delta("health_score"),
            "churn_risk": delta("churn_risk"),
            "flags_raised": [
                {"code": i["code"], "level": i["level"], "message": i.get("message", "")} for i in self.items if i["kind"] == "flag_raised"
            ],
            "flags_cleared": [{"code": i["code"], "level": i["level"]} for i in self.items if i["kind"] == "flag_cleared"],
            "account_changes": [
                {"field": i["kind"], "from": i["from"], "to": i["to"]}
                for i in self.items
                if i["kind"] in ("plan", "subscription_status", "renewal_date", "seats_purchased", "seats_used")
            ],
            "new_tickets": self.new_tickets,
            "new_incidents": [{"id": i["id"], "title": i["title"]} for i in self.items if i["kind"] == "new_incident"],
            "resolved_incidents": [{"id": i["id"], "title": i["title"]} for i in self.items if i["kind"] == "incident_resolved"],
            "timeline": self.timeline,
            "summary": self.lines(),
        }
        if self.hide_churn:
            data.pop("churn_risk")
        return data


def context_changes(
    context: EnrichedContext,
    *,
    customer_pk: int,
    since: dt.datetime | None = None,
    since_last_contact: bool = False,
    hide_churn: bool = False,
) -> ContextChanges:
    """What changed for the customer since ``since`` (or their previous ticket)
    up to ``context`` (the current one). A few indexed queries."""
    last_contact = None
    if since_last_contact:
        last_contact = ticket_previous_contact_at(customer_pk=customer_pk)
        since = last_contact
    baseline, later = context_snapshot_rows(customer_pk=customer_pk, since=since, limit=MAX_TIMELINE + 1)
    current = snapshot_data(context)
    # A snapshot identical to the current state is the current state itself.
    while later and later[-1]["content_hash"] == content_hash(current):
        later.pop()
    messages = {flag.code: flag.message for flag in context.account_health.flags}
    items: list[dict[str, Any]] = []
    timeline: list[dict[str, Any]] = []
    if baseline is not None:
        previous = baseline["data"]
        for row in [*later[-MAX_TIMELINE:], {"created_at": context.enriched_at, "data": current}]:
            step = diff(previous, row["data"], hide_churn=hide_churn)
            if step:
                timeline.append(
                    {
                        "at": row["created_at"].isoformat() if row["created_at"] else None,
                        "health_score": row["data"].get("score"),
                        "health_label": row["data"].get("label"),
                        "changes": [describe(i) for i in step],
                    }
                )
            previous = row["data"]
        items = [i for i in diff(baseline["data"], current, hide_churn=hide_churn) if i["kind"] != "new_ticket"]
        for item in items:
            if item["kind"] == "flag_raised":
                item["message"] = messages.get(item["code"], "")
    new_tickets = []
    if since is not None:
        new_tickets = [
            {**ticket, "created_at": ticket["created_at"].isoformat()}
            for ticket in tickets_created_since(customer_pk=customer_pk, since=since, limit=MAX_NEW_TICKETS)
        ]
    return ContextChanges(
        customer_id=context.customer_id,
        since=since,
        since_last_contact=since_last_contact,
        last_contact_at=last_contact,
        baseline_at=baseline["created_at"] if baseline else None,
        current_at=context.enriched_at,
        items=items,
        new_tickets=new_tickets,
        timeline=timeline,
        hide_churn=hide_churn,
        current=current,
        baseline=baseline["data"] if baseline else None,
    )


def snapshot_timeline(*, customer_pk: int, limit: int = 12) -> list[dict[str, Any]]:
    """The latest ``limit`` snapshots, newest first, each with what changed
    from the one before it (for the admin's customer page). One query."""
    rows = context_snapshots_latest(customer_pk=customer_pk, limit=limit + 1)
    entries = []
    for index, row in enumerate(rows[:limit]):
        before = rows[index + 1]["data"] if index + 1 < len(rows) else None
        changes = [describe(i) for i in diff(before, row["data"])] if before is not None else ["First snapshot"]
        entries.append({"at": row["created_at"], "health_score": row["data"].get("score"), "health_label": row["data"].get("label"),
                        "changes": changes})  # fmt: skip
    return entries
