"""The sections of the enriched context: frozen dataclasses, one per provider.

Providers return one section each, the cache stores their JSON, and the API,
admin, CLI and prompt renderer all render the same :class:`EnrichedContext`.
Field names follow the seed document (``customer_intelligence``,
``login_count_30d``, ``avg_csat`` ...): agents code against them.

Every section has a default for every field, so a failed provider's section is
simply ``Section()`` plus an entry in ``degraded``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

# The account's lifecycle (``customer_intelligence.lifecycle``), from its
# current subscription: the live one, else the latest ended one. "unknown"
# only when the subscription section itself failed (see ``degraded``).
LIFECYCLE_STATES = ("trialing", "active", "past_due", "canceled", "no_subscription")
CHURNED = "churned"  # churn_risk_level of a canceled account; its churn_risk is None


def lifecycle_state(status: str) -> str:
    """The lifecycle state for a subscription status ("none": no subscription)."""
    return status if status in LIFECYCLE_STATES else "no_subscription"


@dataclass(frozen=True, slots=True)
class CustomerIntelligence:
    """Who the customer is, their plan and revenue, health and churn risk.

    ``lifecycle`` is trialing, active, past_due, canceled or no_subscription (or "unknown"). A
    canceled account has ``mrr`` 0, its last subscription's MRR in
    ``last_mrr`` and its ``canceled_at``; it has churned, so its
    ``churn_risk`` is ``None`` and its ``churn_risk_level`` "churned".
    ``last_mrr`` and ``canceled_at`` are ``None`` unless canceled."""

    customer_id: str = ""
    company_name: str = ""
    domain: str = ""
    industry: str = ""
    region: str = ""
    account_owner: str = ""
    plan: str = ""
    plan_name: str = ""
    mrr: Decimal = Decimal("0.00")
    health_score: int = 0
    health_label: str = "Unknown"
    churn_risk: float | None = 0.0
    churn_risk_level: str = "unknown"
    customer_since: dt.date | None = None
    days_as_customer: int = 0
    lifecycle: str = "unknown"
    last_mrr: Decimal | None = None
    canceled_at: dt.date | None = None


@dataclass(frozen=True, slots=True)
class FeatureUsage:
    feature: str
    count: int


@dataclass(frozen=True, slots=True)
class EngagementMetrics:
    login_count_30d: int = 0
    login_count_prev_30d: int = 0
    login_trend_pct: float | None = None
    last_login_at: dt.datetime | None = None
    active_days_30d: int = 0
    most_used_features: tuple[str, ...] = ()
    feature_usage_30d: tuple[FeatureUsage, ...] = ()
    features_used_30d: int = 0
    features_available: int = 0
    feature_adoption_score: float = 0.0
    api_calls_30d: int = 0
    errors_30d: int = 0
    # Logins per day, oldest first, the last entry being today (30 entries).
    daily_logins_30d: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class TicketBrief:
    id: int
    subject: str
    status: str
    priority: str
    category: str
    created_at: dt.datetime
    csat: int | None = None
    channel: str = ""
    updated_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class SupportHistory:
    total_conversations: int = 0
    open_tickets: int = 0
    urgent_open_tickets: int = 0
    tickets_30d: int = 0
    avg_csat: float | None = None
    csat_responses: int = 0
    common_issues: tuple[str, ...] = ()
    avg_first_response_hours: float | None = None
    last_ticket_at: dt.datetime | None = None
    recent_tickets: tuple[TicketBrief, ...] = ()
    # The newest open (open or pending) tickets, at most 5; ``open_tickets`` counts them all.
    open_ticket_list: tuple[TicketBrief, ...] = ()


@dataclass(frozen=True, slots=True)
class SubscriptionDetails:
    """The live subscription, else the latest ended one; ``status`` "none"
    when the customer never had one. Negative day counts are in the past
    (``days_to_trial_end`` -2: the trial ended two days ago). A canceled
    subscription has ``mrr`` 0 with its former MRR in ``last_mrr``, its
    ``canceled_at``, and no renewal (``renewal_date`` and ``days_to_renewal``
    ``None``)."""

    status: str = "none"
    plan: str = ""
    billing_cycle: str = ""
    seats_purchased: int = 0
    seats_used: int = 0
    seat_utilization: float = 0.0
    mrr: Decimal = Decimal("0.00")
    started_at: dt.date | None = None
    renewal_date: dt.date | None = None
    days_to_renewal: int | None = None
    is_trial: bool = False
    trial_ends_at: dt.date | None = None
    days_to_trial_end: int | None = None
    failed_invoices_90d: int = 0
    overdue_invoices: int = 0
    last_invoice_status: str = ""
    canceled_at: dt.date | None = None
    last_mrr: Decimal | None = None


@dataclass(frozen=True, slots=True)
class HealthFactor:
    """One factor of the health score: why the score is what it is."""

    factor: str
    raw: float | None
    weight: float
    points: float
    rule: str


@dataclass(frozen=True, slots=True)
class Flag:
    """A red/yellow/green flag with a stable ``code`` agents can branch on."""

    code: str
    level: str  # red | yellow | green
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ChurnFactor:
    """One factor of a learned churn probability: its signed contribution in
    log-odds against the average account of the training data (positive
    raises the risk) and what it means in plain words."""

    feature: str
    description: str
    contribution: float


@dataclass(frozen=True, slots=True)
class ChurnModelInfo:
    """Where ``churn_risk`` came from: ``source`` "model" (a learned model,
    ``version`` and its top ``factors``), "rules" (the health score rule of
    :mod:`enrichment.rules.scoring`) or "canceled" (no probability)."""

    source: str = "rules"
    version: int | None = None
    factors: tuple[ChurnFactor, ...] = ()


@dataclass(frozen=True, slots=True)
class AccountHealth:
    """Health score, churn risk and flags. A canceled account's
    ``churn_risk`` is ``None`` and its ``churn_risk_level`` "churned".
    ``churn_model`` says where the churn risk came from."""

    health_score: int = 0
    health_label: str = "Unknown"
    churn_risk: float | None = 0.0
    churn_risk_level: str = "unknown"
    red_flags: tuple[str, ...] = ()
    yellow_flags: tuple[str, ...] = ()
    green_flags: tuple[str, ...] = ()
    # Rendered at the top level of the JSON as ``health_breakdown`` and ``flags``.
    breakdown: tuple[HealthFactor, ...] = ()
    flags: tuple[Flag, ...] = ()
    churn_model: ChurnModelInfo = ChurnModelInfo()


@dataclass(frozen=True, slots=True)
class NewsItem:
    title: str
    url: str
    source: str
    published_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class CompanyEnrichment:
    name: str = ""
    domain: str = ""
    description: str = ""
    industry: str = ""
    employees: int | None = None
    employees_range: str = ""
    founded_year: int | None = None
    location: str = ""
    funding_total_usd: int | None = None
    last_funding_type: str = ""
    last_funding_at: dt.date | None = None
    news: tuple[NewsItem, ...] = ()
    # When the oldest of the vendors' answers used here was fetched.
    data_fetched_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class IncidentBrief:
    title: str
    impact: str
    status: str
    started_at: dt.datetime
    affects_customer: bool = False
    components: tuple[str, ...] = ()
    source: str = "internal"  # internal (support.Incident) | statuspage
    id: str = ""  # "inc_<pk>" or "sp_<statuspage id>": stable across refreshes


@dataclass(frozen=True, slots=True)
class ProductStatus:
    """The product's own open incidents merged with the Statuspage summary.

    ``status`` is the worst state of anything active, in Statuspage's component
    vocabulary (operational, degraded_performance, partial_outage,
    major_outage, under_maintenance). ``active_incidents`` lists the incidents
    that affect this customer first (``affects_customer``), then the others;
    ``summary`` says in one sentence what is going on."""

    status: str = "operational"
    active_incidents: tuple[IncidentBrief, ...] = ()
    incidents_affecting_customer: int = 0
    other_incidents: int = 0
    summary: str = ""
    statuspage_indicator: str = ""  # none | minor | major | critical | maintenance; "" = no Statuspage data
    statuspage_description: str = ""
    degraded_components: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CurrentActivity:
    """What the customer's users did in the last ``window_minutes`` minutes."""

    window_minutes: int = 15
    active_users: int = 0  # distinct contacts with an event in the window
    events: int = 0
    logins: int = 0
    api_calls: int = 0
    errors: int = 0
    features: tuple[FeatureUsage, ...] = ()  # feature uses in the window, most used first
    error_features: tuple[str, ...] = ()  # features the errors were reported on
    last_event_at: dt.datetime | None = None
    source: str = ""  # redis | database


@dataclass(frozen=True, slots=True)
class AgentStat:
    """A support agent (assignee of the customer's tickets) and how the customer rated them."""

    agent_id: int
    username: str
    name: str = ""
    tickets_solved: int = 0
    avg_csat: float | None = None
    csat_responses: int = 0


@dataclass(frozen=True, slots=True)
class AgentPerformance:
    """The agents who solved this customer's tickets with the best CSAT
    (solved or closed tickets with a rating, best average first)."""

    best_agents: tuple[AgentStat, ...] = ()
    agents_rated: int = 0


@dataclass(frozen=True, slots=True)
class NextAction:
    """Guidance for the agent from a combination of flags (enrichment.rules.actions)."""

    code: str
    priority: str  # high | normal
    message: str
    because: tuple[str, ...] = ()  # the flag codes (or facts) that triggered it


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """Where a section came from and how fresh it is."""

    provider: str
    source: str
    fetched_at: dt.datetime
    ttl: int
    stale: bool = False
    tier: str = "computed"  # l1 | l2 | computed
    latency_ms: float = 0.0
    # The provider's data version when it was computed (e.g. the incidents
    # version): a cached section whose version moved on is recomputed.
    version: str = ""


@dataclass(frozen=True, slots=True)
class Degraded:
    section: str
    reason: str


