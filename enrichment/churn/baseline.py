"""The rule-based churn risk of past snapshots, for the backtest's comparison.

The same function that serves contexts today (:func:`enrichment.rules.health.assess`)
is given sections rebuilt from the point-in-time facts. What the facts do not
know is set to a constant for every row, which leaves the rules' ranking
alone: seat utilisation (no seat history) counts as full, the renewal date as
unknown, the product status as operational.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from enrichment.churn.facts import AccountFacts
from enrichment.context.sections import CustomerIntelligence, EngagementMetrics, SubscriptionDetails, SupportHistory
from enrichment.rules.health import assess


def rules_churn_risk(facts: AccountFacts, *, day: dt.date) -> float:
    catalogue = max(1, len(settings.ENRICHMENT_PRODUCT_FEATURES))
    status = "trialing" if facts.trialing else ("past_due" if facts.overdue_invoices else "active")
    sections = {
        "customer_intelligence": CustomerIntelligence(days_as_customer=facts.tenure_days),
        "engagement_metrics": EngagementMetrics(
            login_count_30d=facts.logins_30d,
            login_count_prev_30d=facts.logins_prev_30d,
            active_days_30d=facts.active_days_30d,
            features_used_30d=facts.features_used_30d,
            feature_adoption_score=min(1.0, facts.features_used_30d / catalogue),
            api_calls_30d=facts.api_calls_30d,
            errors_30d=facts.errors_30d,
        ),
        "support_history": SupportHistory(
            open_tickets=facts.open_tickets,
            urgent_open_tickets=facts.urgent_open_tickets,
            tickets_30d=facts.tickets_30d,
            avg_csat=facts.avg_csat,
        ),
        "subscription_details": SubscriptionDetails(
            status=status,
            plan=facts.plan,
            billing_cycle="annual" if facts.annual else "monthly",
            seats_purchased=facts.seats,
            seats_used=facts.seats,
            seat_utilization=1.0,
            is_trial=facts.trialing,
            failed_invoices_90d=facts.failed_invoices_90d,
            overdue_invoices=facts.overdue_invoices,
        ),
    }
    risk = assess(sections, today=day).churn_risk
    return 0.0 if risk is None else risk
