"""The lifecycle in the rules (pure, no database): a canceled account has
churned (no churn probability) and gets win-back actions instead of
re-engagement; an expired trial gets a conversion action; trial actions say
"today" rather than "0 days"; the shared phrases of the prompt and admin
(enrichment/context/lifecycle.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from enrichment.context.lifecycle import (
    churn_band,
    churn_phrase,
    mrr_phrase,
    renewal_phrase,
    status_phrase,
    subscription_dates,
    trial_phrase,
)
from enrichment.context.sections import (
    AccountHealth,
    CustomerIntelligence,
    EngagementMetrics,
    SubscriptionDetails,
    SupportHistory,
    lifecycle_state,
)
from enrichment.rules.actions import suggest_actions
from enrichment.rules.health import assess

TODAY = dt.date(2025, 11, 14)
NOW = dt.datetime(2025, 11, 14, 9, 30, tzinfo=dt.UTC)

CANCELED = SubscriptionDetails(
    status="canceled",
    plan="premium",
    seats_purchased=10,
    seats_used=2,
    seat_utilization=0.2,
    canceled_at=dt.date(2025, 11, 4),
    last_mrr=Decimal("250.00"),
)
# Logins collapsed and nobody logged in for 40 days: a live account would get
# login_drop, inactive and reengage_users.
GONE_QUIET = EngagementMetrics(login_count_30d=0, login_count_prev_30d=40, last_login_at=NOW - dt.timedelta(days=40))


def sections(subscription: SubscriptionDetails, engagement: EngagementMetrics = GONE_QUIET) -> dict:
    intel = CustomerIntelligence(customer_id="c_1", plan=subscription.plan, days_as_customer=400)
    found = {
        "customer_intelligence": intel,
        "engagement_metrics": engagement,
        "support_history": SupportHistory(),
        "subscription_details": subscription,
    }
    found["account_health"] = assess(found, today=TODAY)
    return found


@pytest.mark.parametrize(
    ("status", "state"),
    [("trialing", "trialing"), ("active", "active"), ("past_due", "past_due"), ("canceled", "canceled"), ("none", "no_subscription")],
)
def test_lifecycle_state_of_each_subscription_status(status, state):
    assert lifecycle_state(status) == state


def test_canceled_account_has_churned_without_a_probability():
    health = sections(CANCELED)["account_health"]
    assert health.churn_risk is None
    assert health.churn_risk_level == "churned"
    assert [f.code for f in health.flags] == ["canceled"]
    assert health.red_flags == ("Canceled on 2025-11-04",)


def test_live_account_keeps_its_churn_probability():
    health = sections(SubscriptionDetails(status="active", seats_purchased=10, seats_used=2, seat_utilization=0.2))["account_health"]
    assert isinstance(health.churn_risk, float)
    assert health.churn_risk_level in ("low", "medium", "high")


def test_canceled_account_gets_win_back_actions_instead_of_reengagement():
    actions = suggest_actions(sections(CANCELED))
    assert [(a.code, a.priority, a.because) for a in actions] == [
        ("ask_cancellation_reason", "high", ("canceled",)),
        ("offer_reactivation", "normal", ("canceled",)),
    ]
    assert actions[0].message == "They canceled on 2025-11-04: before anything else, ask what made them leave and note the reason."
    assert actions[1].message == "Offer to reactivate their Premium plan where they left off; offer no discount without approval."
    assert all("$" not in a.message for a in actions)  # revenue never reaches a customer-facing audience


def test_same_usage_on_a_live_account_gets_reengagement():
    live = SubscriptionDetails(status="active", plan="premium", seats_purchased=10, seats_used=2, seat_utilization=0.2)
    assert "reengage_users" in [a.code for a in suggest_actions(sections(live))]


def test_reengage_users_never_for_a_canceled_account_even_with_usage_flags():
    found = sections(CANCELED)
    health = found["account_health"]
    forced = AccountHealth(flags=(*health.flags, *sections(SubscriptionDetails(status="active"))["account_health"].flags))
    assert "reengage_users" not in [a.code for a in suggest_actions({**found, "account_health": forced})]


def trial(days: int) -> SubscriptionDetails:
    return SubscriptionDetails(
        status="trialing",
        plan="professional",
        is_trial=True,
        trial_ends_at=TODAY + dt.timedelta(days=days),
        days_to_trial_end=days,
    )


def test_expired_trial_gets_a_conversion_action():
    actions = suggest_actions(sections(trial(-3), EngagementMetrics(login_count_30d=5, last_login_at=NOW)))
    assert [a.code for a in actions] == ["convert_expired_trial"]
    assert actions[0].message == (
        "Their trial ended 3 days ago without converting: help them choose a plan to keep access; "
        "promise no trial extension without approval."
    )


def test_trial_ending_today_actions_say_today():
    quiet = suggest_actions(sections(trial(0), EngagementMetrics(login_count_30d=5, last_login_at=NOW)))
    assert [a.message for a in quiet] == ["The trial ends today and usage is light: offer onboarding help or a short demo."]
    busy = suggest_actions(sections(trial(0), EngagementMetrics(login_count_30d=60, login_count_prev_30d=50, last_login_at=NOW)))
    assert "They use the product a lot and the trial ends today: offer a conversion call." in [a.message for a in busy]


# --- the shared phrases ------------------------------------------------------------------------------


def test_phrases_of_a_canceled_account():
    assert mrr_phrase(Decimal("0.00"), Decimal("250.00")) == "$0.00 (canceled; last MRR $250.00)"
    assert mrr_phrase(Decimal("1250.5"), None) == "$1,250.50"
    assert churn_phrase(None, "churned") == "n/a (canceled)"
    assert churn_phrase(0.15, "low") == "Low (under 20%)"
    assert renewal_phrase(CANCELED) == "none (canceled)"
    assert status_phrase("canceled") == "CANCELED"
    assert status_phrase("past_due") == "PAST DUE"
    assert status_phrase("none") == "NO SUBSCRIPTION"


def test_trial_and_renewal_phrases_never_read_a_past_date_as_future():
    assert trial_phrase(trial(-2)) == ("Trial ended", "2025-11-12 (2 days ago)")
    assert trial_phrase(trial(-1)) == ("Trial ended", "2025-11-13 (1 day ago)")
    assert trial_phrase(trial(0)) == ("Trial ends", "2025-11-14 (today)")
    assert trial_phrase(trial(6)) == ("Trial ends", "2025-11-20 (6 days)")
    assert trial_phrase(SubscriptionDetails(status="active")) is None

    def renewal(days: int | None) -> str:
        date = TODAY + dt.timedelta(days=days) if days is not None else None
        return renewal_phrase(SubscriptionDetails(status="active", renewal_date=date, days_to_renewal=days))

    assert renewal(-3) == "date passed 3 days ago (2025-11-11)"
    assert renewal(0) == "today"
    assert renewal(28) == "28 days"
    assert renewal(None) == "not scheduled"


def test_churn_risk_reads_as_a_band_never_as_certainty():
    assert [churn_band(p) for p in (0.0, 0.15, 0.2, 0.399, 0.4, 0.73, 0.8, 0.999, 1.0)] == [
        "under 20%", "under 20%", "20-40%", "20-40%", "40-60%", "60-80%", "over 80%", "over 80%", "over 80%",
    ]  # fmt: skip
    assert churn_phrase(1.0, "high") == "High (over 80%)"
    assert "100%" not in churn_phrase(1.0, "high")


def test_a_trial_and_the_renewal_after_it_are_worded_apart():
    def trial(ends_in: int, renews_in: int) -> SubscriptionDetails:
        return SubscriptionDetails(
            status="trialing", is_trial=True, trial_ends_at=TODAY + dt.timedelta(days=ends_in), days_to_trial_end=ends_in,
            renewal_date=TODAY + dt.timedelta(days=renews_in), days_to_renewal=renews_in,
        )  # fmt: skip

    assert subscription_dates(trial(5, 5)) == [("Trial ends", f"{TODAY + dt.timedelta(days=5)} (5 days)")]
    assert subscription_dates(trial(5, 36)) == [
        ("Trial ends", f"{TODAY + dt.timedelta(days=5)} (5 days)"),
        ("First renewal", f"{TODAY + dt.timedelta(days=36)} (36 days)"),
    ]
    assert subscription_dates(SubscriptionDetails(status="active", days_to_renewal=28)) == [("Renewal", "28 days")]
