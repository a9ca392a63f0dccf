"""What an account looked like at one moment: the raw facts the churn model learns from.

Training reads them from history at past snapshot dates
(:mod:`enrichment.churn.dataset`, set-based SQL, nothing after the date);
serving reads the same facts from the sections a context was just built from
(:func:`facts_from_sections`, no query). One definition of every fact for both,
so the model scores live accounts on what it was trained on:

=====================  ============================================================
fact                   definition at moment ``t`` (windows of :mod:`customers.windows`)
=====================  ============================================================
logins_30d             login events in ``(t - 30 d, t]``
logins_prev_30d        login events in ``(t - 60 d, t - 30 d]``
active_days_30d        UTC days with a login in the last 30 days
features_used_30d      distinct features used in the last 30 days
api_calls_30d          API call events in the last 30 days
errors_30d             error events in the last 30 days
tickets_30d            tickets created in the last 30 days
open_tickets           tickets open at ``t`` (created by ``t``, not resolved by ``t``)
urgent_open_tickets    of those, urgent ones
avg_csat               average CSAT of the tickets resolved by ``t`` (``None``: no rating)
failed_invoices_90d    failed invoices issued in the 90 days up to ``t``
overdue_invoices       invoices past their due date and unpaid at ``t``
trialing               the live subscription was in its trial at ``t``
plan, annual, seats    the live subscription's plan code, billing cycle and seats purchased
tenure_days            days since ``customer_since``
=====================  ============================================================

Seats purchased and plan are the subscription row's recorded values: the data
model keeps no history of seat changes. Seats *used* is not a fact at all for
that reason (its current value would leak the present into past snapshots).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from enrichment.context.sections import (
    CustomerIntelligence,
    EngagementMetrics,
    SubscriptionDetails,
    SupportHistory,
)

# Subscription statuses the model scores: a live subscription. Canceled
# accounts have churned (no probability); accounts without one are left to the rules.
SCORED_STATUSES = frozenset({"trialing", "active", "past_due"})


@dataclass(frozen=True, slots=True)
class AccountFacts:
    logins_30d: int = 0
    logins_prev_30d: int = 0
    active_days_30d: int = 0
    features_used_30d: int = 0
    api_calls_30d: int = 0
    errors_30d: int = 0
    tickets_30d: int = 0
    open_tickets: int = 0
    urgent_open_tickets: int = 0
    avg_csat: float | None = None
    failed_invoices_90d: int = 0
    overdue_invoices: int = 0
    trialing: bool = False
    plan: str = ""
    annual: bool = False
    seats: int = 0
    tenure_days: int = 0


def facts_from_sections(sections: Mapping[str, Any]) -> AccountFacts | None:
    """The facts of a live account from its context's sections; ``None`` when
    it has no live subscription (canceled or none: the model does not score it)."""
    sub: SubscriptionDetails = sections.get("subscription_details") or SubscriptionDetails()
    if sub.status not in SCORED_STATUSES:
        return None
    eng: EngagementMetrics = sections.get("engagement_metrics") or EngagementMetrics()
    support: SupportHistory = sections.get("support_history") or SupportHistory()
    intel: CustomerIntelligence = sections.get("customer_intelligence") or CustomerIntelligence()
    return AccountFacts(
        logins_30d=eng.login_count_30d,
        logins_prev_30d=eng.login_count_prev_30d,
        active_days_30d=eng.active_days_30d,
        features_used_30d=eng.features_used_30d,
        api_calls_30d=eng.api_calls_30d,
        errors_30d=eng.errors_30d,
        tickets_30d=support.tickets_30d,
        open_tickets=support.open_tickets,
        urgent_open_tickets=support.urgent_open_tickets,
        avg_csat=support.avg_csat,
        failed_invoices_90d=sub.failed_invoices_90d,
        overdue_invoices=sub.overdue_invoices,
        trialing=sub.status == "trialing",
        plan=sub.plan,
        annual=sub.billing_cycle == "annual",
        seats=sub.seats_purchased,
        tenure_days=intel.days_as_customer,
    )
