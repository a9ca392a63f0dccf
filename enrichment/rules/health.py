"""The account health assessment: the score and churn risk of
:mod:`enrichment.rules.scoring` plus the flags of :mod:`enrichment.rules.flags`,
as one :class:`AccountHealth`. Pure: no queries.

It lives in its own module so the two it combines need not import each other
(flags use :func:`~enrichment.rules.scoring.payment_problem`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from enrichment.context.sections import (
    CHURNED,
    AccountHealth,
    CustomerIntelligence,
    EngagementMetrics,
    HealthFactor,
    SubscriptionDetails,
    SupportHistory,
)
from enrichment.rules.flags import evaluate_flags
from enrichment.rules.scoring import churn_risk_level, health_label, payment_problem, score_factors, weights


def assess(sections: Mapping[str, Any], *, today: dt.date) -> AccountHealth:
    """Score the account and raise its flags from the sections fetched so far."""
    intel: CustomerIntelligence = sections.get("customer_intelligence") or CustomerIntelligence()
    engagement: EngagementMetrics = sections.get("engagement_metrics") or EngagementMetrics()
    support: SupportHistory = sections.get("support_history") or SupportHistory()
    sub: SubscriptionDetails = sections.get("subscription_details") or SubscriptionDetails()

    weight = weights()
    breakdown = []
    total = 0.0
    for name, raw, score, rule in score_factors(intel, engagement, support, sub):
        factor_weight = weight.get(name, 0.0)
        points = round(factor_weight * score, 2)
        total += points
        breakdown.append(HealthFactor(name, raw, round(factor_weight, 2), points, rule))  # positional: built for every context
    # Round first: the points are rounded to hundredths, their float sum may fall a hair short.
    health = max(0, min(100, math.floor(round(total, 2))))

    login_drop = bool(engagement.login_count_prev_30d and engagement.login_count_30d < engagement.login_count_prev_30d * 0.5)
    renewal_soon = sub.days_to_renewal is not None and 0 <= sub.days_to_renewal <= 30
    risk = (100 - health) / 100
    risk += 0.10 if login_drop else 0.0
    risk += 0.10 if payment_problem(sub) else 0.0
    risk += 0.05 if (renewal_soon and health < 60) else 0.0
    risk = round(max(0.0, min(1.0, risk)), 2)
    churned = sub.status == "canceled"  # it has churned: no probability that it still might

    flags = evaluate_flags(
        intel=intel,
        engagement=engagement,
        support=support,
        subscription=sub,
        health_score=health,
        today=today,
        product_status=sections.get("product_status"),
    )
    return AccountHealth(
        health_score=health,
        health_label=health_label(health),
        churn_risk=None if churned else risk,
        churn_risk_level=CHURNED if churned else churn_risk_level(risk),
        red_flags=tuple(f.message for f in flags if f.level == "red"),
        yellow_flags=tuple(f.message for f in flags if f.level == "yellow"),
        green_flags=tuple(f.message for f in flags if f.level == "green"),
        breakdown=tuple(breakdown),
        flags=flags,
    )
