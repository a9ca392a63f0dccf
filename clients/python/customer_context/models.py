"""Typed results, matching the API's OpenAPI schema (``/api/schema/``).

Every result is a frozen dataclass built from the JSON answer, with the main
fields typed and the whole answer kept in ``raw`` (a ``dict``): new or rarely
used fields are always reachable there, and ``result["key"]`` reads ``raw``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# The sections of the full view (a customer-facing token gets none of them).
SECTIONS = (
    "customer_intelligence",
    "engagement_metrics",
    "support_history",
    "subscription_details",
    "account_health",
    "company_enrichment",
    "product_status",
    "current_activity",
    "agent_performance",
)


class _Raw:
    """``result["key"]``, ``result.get("key")`` and ``"key" in result`` read the raw answer."""

    raw: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.raw[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.raw.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self.raw


@dataclass(frozen=True)
class ErrorInfo:
    """An error as the API describes it (also per item of a batch)."""

    code: str
    message: str
    details: Any = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ErrorInfo:
        return cls(code=str(data.get("code", "")), message=str(data.get("message", "")), details=data.get("details"))


@dataclass(frozen=True)
class TicketBrief(_Raw):
    """A ticket in a list (a requester's open or recent tickets)."""

    id: int
    subject: str
    status: str
    created_at: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TicketBrief:
        return cls(
            id=int(data.get("id", 0)),
            subject=str(data.get("subject", "")),
            status=str(data.get("status", "")),
            created_at=data.get("created_at"),
            raw=dict(data),
        )


@dataclass(frozen=True)
class Requester(_Raw):
    """Who is writing: present when the context was asked by email or for a ticket."""

    email: str
    name: str = ""
    title: str = ""
    account_roles: tuple[str, ...] = ()
    open_tickets: tuple[TicketBrief, ...] = ()
    recent_tickets: tuple[TicketBrief, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Requester:
        return cls(
            email=str(data.get("email", "")),
            name=str(data.get("name", "")),
            title=str(data.get("title", "")),
            account_roles=tuple(data.get("account_roles") or ()),
            open_tickets=tuple(TicketBrief.from_dict(t) for t in data.get("open_tickets") or ()),
            recent_tickets=tuple(TicketBrief.from_dict(t) for t in data.get("recent_tickets") or ()),
            raw=dict(data),
        )


@dataclass(frozen=True)
class Ticket(_Raw):
    """The ticket being answered (ticket lookups). ``priority`` and
    ``category`` are ``None`` in the customer-facing view."""

    id: int
    subject: str
    status: str
    channel: str = ""
    priority: str | None = None
    category: str | None = None
    created_at: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Ticket:
        return cls(
            id=int(data.get("id", 0)),
            subject=str(data.get("subject", "")),
            status=str(data.get("status", "")),
            channel=str(data.get("channel", "")),
            priority=data.get("priority"),
            category=data.get("category"),
            created_at=data.get("created_at"),
            raw=dict(data),
        )


@dataclass(frozen=True)
class Context(_Raw):
    """A customer's context: ``prompt`` is the ready ``<customer_context>`` block.

    ``view`` is ``"full"`` or ``"customer_facing"`` (a customer-facing token's
    allowlisted view, which has no sections). ``sections`` holds the full
    view's sections (``customer_intelligence``, ``account_health``...) as
    dicts; everything else is in ``raw``.
    """

    customer_id: str
    prompt: str
    view: str = "full"
    company_name: str = ""
    requester: Requester | None = None
    ticket: Ticket | None = None
    cache_hit: bool = False
    enriched_at: str | None = None
    enrichment_latency_ms: float | None = None
    context_id: str | None = None  # send it with the conversation's outcome (record_outcome)
    strategy: str | None = None
    experiment: str | None = None
    sections: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Context:
        sections = {key: data[key] for key in SECTIONS if key in data}
        company = data.get("company_name") or (data.get("customer_intelligence") or {}).get("company_name", "")
        requester, ticket = data.get("requester"), data.get("ticket")
        return cls(
            customer_id=str(data.get("customer_id", "")),
            prompt=str(data.get("prompt", "")),
            view=str(data.get("view", "full")),
            company_name=str(company or ""),
            requester=Requester.from_dict(requester) if requester else None,
            ticket=Ticket.from_dict(ticket) if ticket else None,
            cache_hit=bool(data.get("cache_hit", False)),
            enriched_at=data.get("enriched_at"),
            enrichment_latency_ms=data.get("enrichment_latency_ms"),
            context_id=data.get("context_id"),
            strategy=data.get("strategy"),
            experiment=data.get("experiment"),
            sections=sections,
            raw=dict(data),
        )


@dataclass(frozen=True)
class Summary(_Raw):
    """A few headline figures of a context. The internal ones (health, churn
    risk, logins...) are ``None`` for a customer-facing token."""

    company_name: str
    plan: str
    lifecycle: str
    open_tickets: int = 0
    days_to_renewal: int | None = None
    cache_hit: bool = False
    health_score: int | None = None
    churn_risk: float | None = None
    churn_risk_level: str | None = None
    login_count_30d: int | None = None
    has_critical_issues: bool | None = None
    has_opportunities: bool | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Summary:
        return cls(
            company_name=str(data.get("company_name", "")),
            plan=str(data.get("plan", "")),
            lifecycle=str(data.get("lifecycle", "")),
            open_tickets=int(data.get("open_tickets") or 0),
            days_to_renewal=data.get("days_to_renewal"),
            cache_hit=bool(data.get("cache_hit", False)),
            health_score=data.get("health_score"),
            churn_risk=data.get("churn_risk"),
            churn_risk_level=data.get("churn_risk_level"),
            login_count_30d=data.get("login_count_30d"),
            has_critical_issues=data.get("has_critical_issues"),
            has_opportunities=data.get("has_opportunities"),
            raw=dict(data),
        )


@dataclass(frozen=True)
class Changes(_Raw):
    """What changed for a customer since a moment or their last contact.
    ``summary`` has one line per change, as in the prompt block."""

    customer_id: str
    changed: bool
    since: str | None = None
    since_last_contact: bool = False
    summary: tuple[str, ...] = ()
    account_changes: tuple[dict[str, Any], ...] = ()
    new_tickets: tuple[dict[str, Any], ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Changes:
        return cls(
            customer_id=str(data.get("customer_id", "")),
            changed=bool(data.get("changed", False)),
            since=data.get("since"),
            since_last_contact=bool(data.get("since_last_contact", False)),
            summary=tuple(data.get("summary") or ()),
            account_changes=tuple(data.get("account_changes") or ()),
            new_tickets=tuple(data.get("new_tickets") or ()),
            raw=dict(data),
        )


@dataclass(frozen=True)
class BatchItem(_Raw):
    """One item of a batch: ``status`` is ``ok`` (``context`` set),
    ``not_found`` or ``invalid`` (``error`` set). ``customer_id`` or ``email``
    is the item as it was sent."""

    status: str
    customer_id: Any = None
    email: Any = None
    context: Context | None = None
    error: ErrorInfo | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BatchItem:
        context, error = data.get("context"), data.get("error")
        return cls(
            status=str(data.get("status", "")),
            customer_id=data.get("customer_id"),
            email=data.get("email"),
            context=Context.from_dict(context) if context else None,
            error=ErrorInfo.from_dict(error) if error else None,
            raw=dict(data),
        )


@dataclass(frozen=True)
class CustomerListItem(_Raw):
    external_id: str
    company_name: str
    domain: str = ""
    industry: str = ""
    region: str = ""
    plan: str | None = None
    health_score: int | None = None
    health_label: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CustomerListItem:
        return cls(
            external_id=str(data.get("external_id", "")),
            company_name=str(data.get("company_name", "")),
            domain=str(data.get("domain", "")),
            industry=str(data.get("industry", "")),
            region=str(data.get("region", "")),
            plan=data.get("plan"),
            health_score=data.get("health_score"),
            health_label=data.get("health_label"),
            raw=dict(data),
        )


@dataclass(frozen=True)
class CustomerPage(_Raw):
    """A page of a customer search: ``count`` in all, ``results`` on this page."""

    count: int
    results: tuple[CustomerListItem, ...]
    next: str | None = None
    previous: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CustomerPage:
        return cls(
            count=int(data.get("count", 0)),
            results=tuple(CustomerListItem.from_dict(item) for item in data.get("results") or ()),
            next=data.get("next"),
            previous=data.get("previous"),
            raw=dict(data),
        )


@dataclass(frozen=True)
class IngestResult(_Raw):
    """``received`` events, ``created`` now, ``duplicates`` already stored (by ``event_id``)."""

    received: int
    created: int
    duplicates: int
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IngestResult:
        return cls(
            received=int(data.get("received", 0)),
            created=int(data.get("created", 0)),
            duplicates=int(data.get("duplicates", 0)),
            raw=dict(data),
        )


@dataclass(frozen=True)
class Event:
    """A product usage event for :meth:`ContextClient.ingest_events` (plain dicts work too).

    ``kind``: login, feature_use, api_call, error or invite. ``occurred_at``:
    ISO 8601 with a time zone. Sending the same ``event_id`` twice stores it once.
    """

    event_id: str
    customer_id: str
    kind: str
    occurred_at: str
    feature: str | None = None
    contact_email: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {"event_id": self.event_id, "customer_id": self.customer_id, "kind": self.kind, "occurred_at": self.occurred_at}
        if self.feature is not None:
            data["feature"] = self.feature
        if self.contact_email is not None:
            data["contact_email"] = self.contact_email
        return data
