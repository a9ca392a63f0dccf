"""Flag rules: small pure functions with stable codes, registered in order.

Each rule looks at the sections and returns a :class:`Flag` or ``None``.
Thresholds have defaults here and can be overridden one by one in
``settings.ENRICHMENT_FLAG_THRESHOLDS``.

=============================  ======  ===========================================================
code                           level   raised when
=============================  ======  ===========================================================
canceled                       red     the account's latest subscription is canceled and none is live:
                                       "Canceled on YYYY-MM-DD" (``canceled_at``; "Canceled (date not
                                       recorded)" without one)
incident_affecting_customer    red     an active product incident (impact minor or worse) touches the
                                       customer: its plan, region and features used in 30 days
                                       (empty lists match everyone; see enrichment/realtime/product_status.py)
payment_failed                 red     subscription past due, or a failed invoice in 90 days
urgent_tickets_open            red     at least ``urgent_open_tickets`` (1) urgent tickets open
login_drop                     red     logins in 30 days below ``login_drop_ratio`` (0.5) of the
                                       previous 30 days, with at least ``login_drop_min_prev`` (10)
renewal_at_risk                red     renewal within ``renewal_window_days`` (30) and health score
                                       under ``renewal_poor_health`` (60)
low_csat                       red     average CSAT <= ``csat_critical`` (2.5) over at least
                               yellow  ``csat_min_responses`` (2) ratings; yellow below ``csat_low`` (3.5)
trial_expired                  red     still trialing but the trial end date has passed:
                                       "Trial ended N days ago"
renewal_date_passed            yellow  active or past due and the renewal date has passed:
                                       "Renewal date passed N days ago (YYYY-MM-DD)"
trial_ending                   yellow  trialing and the trial ends today or within ``trial_ending_days`` (7)
seats_underused                yellow  under ``seats_underused_ratio`` (0.4) of seats in use, 5+ seats
inactive                       yellow  no login for ``inactive_days`` (14) days (customers older than that)
high_engagement                green   at least ``high_engagement_logins`` (40) logins in 30 days, no drop
seats_nearly_full              green   at least ``seats_nearly_full_ratio`` (0.9) of seats in use
high_csat                      green   average CSAT >= ``csat_high`` (4.5) over ``csat_high_min_responses`` (5)
=============================  ======  ===========================================================

A canceled account has churned: only ``canceled``, ``incident_affecting_customer``,
``payment_failed``, ``urgent_tickets_open`` and ``low_csat`` apply to it; the
rules about usage, seats, trials and renewals (:data:`LIVE_ACCOUNT_ONLY`) are
not evaluated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings

from enrichment.context.sections import CustomerIntelligence, EngagementMetrics, Flag, ProductStatus, SubscriptionDetails, SupportHistory
from enrichment.rules.scoring import payment_problem

DEFAULT_THRESHOLDS: dict[str, float] = {
    "urgent_open_tickets": 1,
    "login_drop_ratio": 0.5,
    "login_drop_min_prev": 10,
    "renewal_window_days": 30,
    "renewal_poor_health": 60,
    "csat_critical": 2.5,
    "csat_low": 3.5,
    "csat_min_responses": 2,
    "trial_ending_days": 7,
    "seats_underused_ratio": 0.4,
    "inactive_days": 14,
    "high_engagement_logins": 40,
    "seats_nearly_full_ratio": 0.9,
    "csat_high": 4.5,
    "csat_high_min_responses": 5,
}

LEVEL_ORDER = {"red": 0, "yellow": 1, "green": 2}

# Rules that only make sense while the account has a live subscription.
LIVE_ACCOUNT_ONLY = frozenset(
    {
        "login_drop",
        "renewal_at_risk",
        "trial_expired",
        "renewal_date_passed",
        "trial_ending",
        "seats_underused",
        "inactive",
        "high_engagement",
        "seats_nearly_full",
        "high_csat",
    }
)

# An active incident of these impacts raises the ``incident_affecting_customer`` flag.
FLAG_IMPACTS = frozenset({"minor", "major", "critical"})


@dataclass(frozen=True, slots=True)
class FlagInput:
    intel: CustomerIntelligence
    engagement: EngagementMetrics
    support: SupportHistory
    subscription: SubscriptionDetails
    health_score: int
    today: dt.date
    t: dict[str, float]
    product_status: ProductStatus = field(default_factory=ProductStatus)


Rule = Callable[[FlagInput], Flag | None]
RULES: dict[str, Rule] = {}


def flag_rule(code: str) -> Callable[[Rule], Rule]:
    """Register a rule under a stable code (codes are a contract with agents)."""

    def register(func: Rule) -> Rule:
        if code in RULES:
            raise ValueError(f"flag code {code!r} registered twice")
        RULES[code] = func
        return func

    return register


def thresholds() -> dict[str, float]:
    return {**DEFAULT_THRESHOLDS, **getattr(settings, "ENRICHMENT_FLAG_THRESHOLDS", {})}


def evaluate_flags(
    *,
    intel: CustomerIntelligence,
    engagement: EngagementMetrics,
    support: SupportHistory,
    subscription: SubscriptionDetails,
    health_score: int,
    today: dt.date,
    product_status: ProductStatus | None = None,
) -> tuple[Flag, ...]:
    data = FlagInput(intel, engagement, support, subscription, health_score, today, thresholds(), product_status or ProductStatus())
    churned = subscription.status == "canceled"
    rules = [rule for code, rule in RULES.items() if not (churned and code in LIVE_ACCOUNT_ONLY)]
    flags = [flag for rule in rules if (flag := rule(data)) is not None]
    return tuple(sorted(flags, key=lambda f: LEVEL_ORDER[f.level]))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# --- red and yellow --------------------------------------------------------------


@flag_rule("canceled")
def canceled(d: FlagInput) -> Flag | None:
    sub = d.subscription
    if sub.status != "canceled":
        return None
    when = f"on {sub.canceled_at.isoformat()}" if sub.canceled_at else "(date not recorded)"
    return Flag(
        "canceled",
        "red",
        f"Canceled {when}",
        {
            "canceled_at": sub.canceled_at.isoformat() if sub.canceled_at else None,
            "last_mrr": str(sub.last_mrr) if sub.last_mrr is not None else None,
            "plan": sub.plan,
        },
    )


@flag_rule("incident_affecting_customer")
def incident_affecting_customer(d: FlagInput) -> Flag | None:
    hits = [i for i in d.product_status.active_incidents if i.affects_customer and i.impact in FLAG_IMPACTS]
    if not hits:
        return None
    first = hits[0]
    more = f" (+{len(hits) - 1} more)" if len(hits) > 1 else ""
    return Flag(
        "incident_affecting_customer",
        "red",
        f"Active incident affecting this customer: {first.title} ({first.impact}){more}",
        {
            "count": len(hits),
            "incidents": [{"id": i.id, "title": i.title, "impact": i.impact, "status": i.status, "source": i.source} for i in hits[:3]],
        },
    )


@flag_rule("payment_failed")
def payment_failed(d: FlagInput) -> Flag | None:
    sub = d.subscription
    if not payment_problem(sub):
        return None
    if sub.status == "past_due":
        message = "Payment failed - subscription past due"
    else:
        message = f"Payment failed - {_plural(sub.failed_invoices_90d, 'failed invoice')} in 90 days"
    return Flag(
        "payment_failed",
        "red",
        message,
        {"status": sub.status, "failed_invoices_90d": sub.failed_invoices_90d, "overdue_invoices": sub.overdue_invoices},
    )


@flag_rule("urgent_tickets_open")
def urgent_tickets_open(d: FlagInput) -> Flag | None:
    n = d.support.urgent_open_tickets
    if n < d.t["urgent_open_tickets"]:
        return None
    return Flag(
        "urgent_tickets_open",
        "red",
        f"{_plural(n, 'urgent ticket')} open",
        {"urgent_open_tickets": n, "open_tickets": d.support.open_tickets},
    )


@flag_rule("login_drop")
def login_drop(d: FlagInput) -> Flag | None:
    cur, prev = d.engagement.login_count_30d, d.engagement.login_count_prev_30d
    if prev < d.t["login_drop_min_prev"] or cur >= prev * d.t["login_drop_ratio"]:
        return None
    drop = round((1 - cur / prev) * 100)
    return Flag(
        "login_drop",
        "red",
        f"Logins down {drop}% vs previous 30 days ({cur} vs {prev})",
        {"login_count_30d": cur, "login_count_prev_30d": prev, "drop_pct": drop},
    )


@flag_rule("renewal_at_risk")
def renewal_at_risk(d: FlagInput) -> Flag | None:
    days = d.subscription.days_to_renewal
    if days is None or not 0 <= days <= d.t["renewal_window_days"] or d.health_score >= d.t["renewal_poor_health"]:
        return None
    return Flag(
        "renewal_at_risk",
        "red",
        f"Renewal in {_plural(days, 'day')} with poor health ({d.health_score}/100)",
        {"days_to_renewal": days, "health_score": d.health_score},
    )


@flag_rule("low_csat")
def low_csat(d: FlagInput) -> Flag | None:
    avg, n = d.support.avg_csat, d.support.csat_responses
    if avg is None or n < d.t["csat_min_responses"] or avg >= d.t["csat_low"]:
        return None
    level = "red" if avg <= d.t["csat_critical"] else "yellow"
    return Flag("low_csat", level, f"Low CSAT: {avg:.1f}/5 over {_plural(n, 'rating')}", {"avg_csat": avg, "csat_responses": n})


@flag_rule("trial_expired")
def trial_expired(d: FlagInput) -> Flag | None:
    sub = d.subscription
    days = sub.days_to_trial_end
    if not sub.is_trial or days is None or days >= 0:
        return None
    return Flag(
        "trial_expired",
        "red",
        f"Trial ended {_plural(-days, 'day')} ago",
        {"days_since_trial_end": -days, "trial_ends_at": sub.trial_ends_at.isoformat() if sub.trial_ends_at else None},
    )


@flag_rule("renewal_date_passed")
def renewal_date_passed(d: FlagInput) -> Flag | None:
    sub = d.subscription
    days = sub.days_to_renewal
    if sub.status not in ("active", "past_due") or days is None or days >= 0:
        return None
    when = f" ({sub.renewal_date.isoformat()})" if sub.renewal_date else ""
    return Flag(
        "renewal_date_passed",
        "yellow",
        f"Renewal date passed {_plural(-days, 'day')} ago{when}",
        {"days_since_renewal_date": -days, "renewal_date": sub.renewal_date.isoformat() if sub.renewal_date else None},
    )


@flag_rule("trial_ending")
def trial_ending(d: FlagInput) -> Flag | None:
    days = d.subscription.days_to_trial_end
    if not d.subscription.is_trial or days is None or not 0 <= days <= d.t["trial_ending_days"]:
        return None
    when = "today" if days == 0 else f"in {_plural(days, 'day')}"
    return Flag(
        "trial_ending",
        "yellow",
        f"Trial ends {when} - help them convert",
        {"days_to_trial_end": days, "trial_ends_at": d.subscription.trial_ends_at.isoformat() if d.subscription.trial_ends_at else None},
    )


@flag_rule("seats_underused")
def seats_underused(d: FlagInput) -> Flag | None:
    sub = d.subscription
    if sub.seats_purchased < 5 or sub.seat_utilization >= d.t["seats_underused_ratio"]:
        return None
    return Flag(
        "seats_underused",
        "yellow",
        f"Only {sub.seats_used}/{sub.seats_purchased} seats in use",
        {"seats_used": sub.seats_used, "seats_purchased": sub.seats_purchased},
    )


@flag_rule("inactive")
def inactive(d: FlagInput) -> Flag | None:
    window = int(d.t["inactive_days"])
    if d.intel.days_as_customer < window:
        return None
    last = d.engagement.last_login_at
    days = (d.today - last.date()).days if last else None
    if days is not None and days < window:
        return None
    message = f"No login for {_plural(days, 'day')}" if days is not None else "No login recorded"
    return Flag("inactive", "yellow", message, {"days_since_last_login": days})


# --- green ---------------------------------------------------------------------------


@flag_rule("high_engagement")
def high_engagement(d: FlagInput) -> Flag | None:
    e = d.engagement
    if e.login_count_30d < d.t["high_engagement_logins"]:
        return None
    if e.login_count_prev_30d and e.login_count_30d < e.login_count_prev_30d * d.t["login_drop_ratio"]:
        return None
    return Flag(
        "high_engagement",
        "green",
        "High engagement - upsell opportunity",
        {"login_count_30d": e.login_count_30d, "feature_adoption_score": e.feature_adoption_score},
    )


@flag_rule("seats_nearly_full")
def seats_nearly_full(d: FlagInput) -> Flag | None:
    sub = d.subscription
    if not sub.seats_purchased or sub.seat_utilization < d.t["seats_nearly_full_ratio"]:
        return None
    return Flag(
        "seats_nearly_full",
        "green",
        f"Seats nearly full ({sub.seats_used}/{sub.seats_purchased}) - expansion opportunity",
        {"seats_used": sub.seats_used, "seats_purchased": sub.seats_purchased},
    )


@flag_rule("high_csat")
def high_csat(d: FlagInput) -> Flag | None:
    avg, n = d.support.avg_csat, d.support.csat_responses
    if avg is None or n < d.t["csat_high_min_responses"] or avg < d.t["csat_high"]:
        return None
    return Flag("high_csat", "green", "High CSAT scores - ask for referral", {"avg_csat": avg, "csat_responses": n})
