"""Health score factors, churn risk levels and labels: pure functions over the sections.

The assessment that combines them with the flags is :func:`enrichment.rules.health.assess`.

The health score (0-100) is a weighted sum of factors, each scored 0..1 by a
documented rule; every factor's raw value, weight, points and rule appear in
``health_breakdown``. Weights come from ``settings.ENRICHMENT_HEALTH_WEIGHTS``
over the defaults below (they are normalised to 100 points).

====================  ======  ===============================================
factor                weight  rule (score 0..1)
====================  ======  ===============================================
engagement             25     logins in 30 days per purchased seat / 5, capped at 1
login_trend            15     1 if logins held or grew vs the previous 30 days,
                              0 at a drop of 50% or more, linear between
feature_adoption       15     share of the product's features used in 30 days
csat                   10     (average CSAT - 1) / 4; 0.7 with no ratings yet
support_load            5     1 with no urgent open ticket and <= 2 open, minus 0.5
                              per urgent open ticket, minus 0.1 per extra open one
payment                15     1 active and paid up, 0.6 trialing, 0 past due or a
                              failed invoice in 90 days, 0 canceled or none
seat_utilization       10     seats used / purchased / 0.8, capped at 1
tenure                  5     months as a customer / 12, capped at 1
====================  ======  ===============================================

Churn risk (0-1) starts from ``(100 - health) / 100`` and adds 0.10 for a login
drop over 50%, 0.10 for a payment problem and 0.05 for a renewal within 30 days
with a health score under 60; capped to 0..1. Levels: low < 0.3 <= medium < 0.6
<= high. A canceled account has churned: its churn risk is ``None`` (no
percentage) and its level "churned" (:func:`enrichment.rules.health.assess`).
Health labels: Good >= 80, Fair >= 60, At Risk >= 40, else Critical.
"""

from __future__ import annotations

from django.conf import settings

from enrichment.context.sections import (
    CustomerIntelligence,
    EngagementMetrics,
    SubscriptionDetails,
    SupportHistory,
)

DEFAULT_WEIGHTS: dict[str, float] = {
    "engagement": 25,
    "login_trend": 15,
    "feature_adoption": 15,
    "csat": 10,
    "support_load": 5,
    "payment": 15,
    "seat_utilization": 10,
    "tenure": 5,
}


def weights() -> dict[str, float]:
    merged = {**DEFAULT_WEIGHTS, **getattr(settings, "ENRICHMENT_HEALTH_WEIGHTS", {})}
    total = sum(merged.values()) or 1.0
    return {key: value * 100.0 / total for key, value in merged.items()}


def _clamp(value: float) -> float:
    return max(0.0, min(1.0, value))


def health_label(score: int) -> str:
    if score >= 80:
        return "Good"
    if score >= 60:
        return "Fair"
    if score >= 40:
        return "At Risk"
    return "Critical"


def churn_risk_level(risk: float) -> str:
    if risk < 0.3:
        return "low"
    if risk < 0.6:
        return "medium"
    return "high"


def payment_problem(sub: SubscriptionDetails) -> bool:
    return sub.status == "past_due" or sub.failed_invoices_90d > 0


def score_factors(
    intel: CustomerIntelligence,
    engagement: EngagementMetrics,
    support: SupportHistory,
    sub: SubscriptionDetails,
) -> list[tuple[str, float | None, float, str]]:
    """(factor, raw value, score 0..1, rule) for each factor."""
    factors: list[tuple[str, float | None, float, str]] = []

    seats = sub.seats_purchased or 1
    per_seat = engagement.login_count_30d / seats
    factors.append(("engagement", round(per_seat, 2), _clamp(per_seat / 5), "logins_30d per seat / 5"))

    prev = engagement.login_count_prev_30d
    if prev:
        ratio = engagement.login_count_30d / prev
        trend_score = _clamp((ratio - 0.5) / 0.5)
        factors.append(("login_trend", round(ratio, 3), trend_score, "1 at >= 100% of previous 30 days, 0 at <= 50%"))
    else:
        score = 1.0 if engagement.login_count_30d else 0.5
        factors.append(("login_trend", None, score, "no logins in the previous 30 days: 1 if active now, else 0.5"))

    factors.append(
        (
            "feature_adoption",
            engagement.feature_adoption_score,
            _clamp(engagement.feature_adoption_score),
            "share of product features used in 30 days",
        )
    )

    if support.avg_csat is None:
        factors.append(("csat", None, 0.7, "no CSAT ratings: neutral 0.7"))
    else:
        factors.append(("csat", support.avg_csat, _clamp((support.avg_csat - 1) / 4), "(avg CSAT - 1) / 4"))

    load = 1.0 - 0.5 * support.urgent_open_tickets - 0.1 * max(0, support.open_tickets - 2)
    factors.append(("support_load", float(support.open_tickets), _clamp(load), "1 - 0.5 per urgent open - 0.1 per open beyond 2"))

    if payment_problem(sub):
        payment, rule = 0.0, "past due or a failed invoice in 90 days"
    elif sub.status == "active":
        payment, rule = 1.0, "active and paid up"
    elif sub.status == "trialing":
        payment, rule = 0.6, "trialing"
    else:
        payment, rule = 0.0, f"subscription {sub.status}"
    factors.append(("payment", None, payment, rule))

    factors.append(("seat_utilization", sub.seat_utilization, _clamp(sub.seat_utilization / 0.8), "seats used / purchased / 0.8"))

    months = intel.days_as_customer / 30.4
    factors.append(("tenure", round(months, 1), _clamp(months / 12), "months as customer / 12"))
    return factors
