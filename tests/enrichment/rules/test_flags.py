"""Flag rules (enrichment/flags.py): every rule on both sides of its documented
threshold, with its stable code, level and message; overrides from settings;
ordering; and the docstring table kept in step with the RULES registry.

Pure Python: sections are built directly as dataclasses, no database.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from decimal import Decimal

import pytest

from enrichment.context.sections import (
    CustomerIntelligence,
    EngagementMetrics,
    Flag,
    IncidentBrief,
    ProductStatus,
    SubscriptionDetails,
    SupportHistory,
)
from enrichment.rules import flags as flags_module
from enrichment.rules.flags import DEFAULT_THRESHOLDS, RULES, evaluate_flags

TODAY = dt.date(2025, 11, 14)
NOW = dt.datetime(2025, 11, 14, 9, 30, tzinfo=dt.UTC)

# A quiet, healthy-but-unremarkable account that raises no flag at all; each
# test changes only the fields its rule looks at.
BASE_INTEL = CustomerIntelligence(customer_id="c_1", company_name="Quiet Co", days_as_customer=200)
BASE_ENGAGEMENT = EngagementMetrics(
    login_count_30d=20,
    login_count_prev_30d=20,
    last_login_at=NOW - dt.timedelta(days=1),
    feature_adoption_score=0.5,
)
BASE_SUPPORT = SupportHistory(open_tickets=1, urgent_open_tickets=0, avg_csat=4.0, csat_responses=3)
BASE_SUBSCRIPTION = SubscriptionDetails(
    status="active",
    seats_purchased=10,
    seats_used=6,
    seat_utilization=0.6,
    days_to_renewal=200,
)
BASE_HEALTH = 75


def flags_for(
    *,
    intel: dict | None = None,
    engagement: dict | None = None,
    support: dict | None = None,
    subscription: dict | None = None,
    health_score: int = BASE_HEALTH,
    today: dt.date = TODAY,
    product_status: ProductStatus | None = None,
) -> tuple[Flag, ...]:
    return evaluate_flags(
        intel=dataclasses.replace(BASE_INTEL, **(intel or {})),
        engagement=dataclasses.replace(BASE_ENGAGEMENT, **(engagement or {})),
        support=dataclasses.replace(BASE_SUPPORT, **(support or {})),
        subscription=dataclasses.replace(BASE_SUBSCRIPTION, **(subscription or {})),
        health_score=health_score,
        today=today,
        product_status=product_status,
    )


def incidents(*items: tuple[str, str, bool]) -> ProductStatus:
    """A product status with (title, impact, affects_customer) incidents."""
    briefs = tuple(IncidentBrief(title, impact, "investigating", NOW, affects, ("reports",), "internal", f"inc_{i}")
                   for i, (title, impact, affects) in enumerate(items))  # fmt: skip
    return ProductStatus(active_incidents=briefs, incidents_affecting_customer=sum(1 for *_x, a in items if a))


def only(flags: tuple[Flag, ...], code: str) -> Flag | None:
    matching = [f for f in flags if f.code == code]
    assert len(matching) <= 1, f"{code} raised more than once: {matching}"
    return matching[0] if matching else None


def codes(flags: tuple[Flag, ...]) -> set[str]:
    return {f.code for f in flags}


def test_base_profile_raises_no_flag():
    assert flags_for() == ()


# --- payment_failed ------------------------------------------------------------------


def test_payment_failed_red_when_subscription_past_due():
    flag = only(flags_for(subscription={"status": "past_due", "overdue_invoices": 2}), "payment_failed")
    assert flag is not None
    assert flag.level == "red"
    assert flag.message == "Payment failed - subscription past due"
    assert flag.evidence == {"status": "past_due", "failed_invoices_90d": 0, "overdue_invoices": 2}


def test_payment_failed_red_on_one_failed_invoice_in_90_days_while_active():
    flag = only(flags_for(subscription={"failed_invoices_90d": 1}), "payment_failed")
    assert flag is not None
    assert flag.level == "red"
    assert flag.message == "Payment failed - 1 failed invoice in 90 days"


def test_payment_failed_message_pluralises_failed_invoices():
    flag = only(flags_for(subscription={"failed_invoices_90d": 3}), "payment_failed")
    assert flag is not None
    assert flag.message == "Payment failed - 3 failed invoices in 90 days"


def test_payment_failed_not_raised_when_active_and_no_failed_invoice():
    assert only(flags_for(subscription={"status": "active", "failed_invoices_90d": 0}), "payment_failed") is None


# --- urgent_tickets_open ----------------------------------------------------------------


def test_urgent_tickets_open_not_raised_with_zero_urgent_tickets():
    assert only(flags_for(support={"urgent_open_tickets": 0, "open_tickets": 5}), "urgent_tickets_open") is None


def test_urgent_tickets_open_red_at_one_urgent_ticket():
    flag = only(flags_for(support={"urgent_open_tickets": 1, "open_tickets": 2}), "urgent_tickets_open")
    assert flag is not None
    assert flag.level == "red"
    assert flag.message == "1 urgent ticket open"
    assert flag.evidence == {"urgent_open_tickets": 1, "open_tickets": 2}


def test_urgent_tickets_open_message_pluralises():
    flag = only(flags_for(support={"urgent_open_tickets": 3, "open_tickets": 4}), "urgent_tickets_open")
    assert flag is not None
    assert flag.message == "3 urgent tickets open"


# --- login_drop ------------------------------------------------------------------------


def test_login_drop_red_when_logins_fall_below_half_of_previous_period():
    flag = only(flags_for(engagement={"login_count_30d": 49, "login_count_prev_30d": 100}), "login_drop")
    assert flag is not None
    assert flag.level == "red"
    assert flag.message == "Logins down 51% vs previous 30 days (49 vs 100)"
    assert flag.evidence == {"login_count_30d": 49, "login_count_prev_30d": 100, "drop_pct": 51}


def test_login_drop_not_raised_at_exactly_half_of_previous_period():
    assert only(flags_for(engagement={"login_count_30d": 50, "login_count_prev_30d": 100}), "login_drop") is None


def test_login_drop_raised_at_minimum_previous_logins_of_ten():
    flag = only(flags_for(engagement={"login_count_30d": 4, "login_count_prev_30d": 10}), "login_drop")
    assert flag is not None
    assert flag.message == "Logins down 60% vs previous 30 days (4 vs 10)"


def test_login_drop_never_raised_with_fewer_than_ten_previous_logins():
    for current in (0, 1, 4):
        assert only(flags_for(engagement={"login_count_30d": current, "login_count_prev_30d": 9}), "login_drop") is None


def test_login_drop_to_zero_is_a_hundred_percent_drop():
    flag = only(flags_for(engagement={"login_count_30d": 0, "login_count_prev_30d": 30}), "login_drop")
    assert flag is not None
    assert flag.message == "Logins down 100% vs previous 30 days (0 vs 30)"


# --- renewal_at_risk ------------------------------------------------------------------


def test_renewal_at_risk_red_with_renewal_in_window_and_poor_health():
    flag = only(flags_for(subscription={"days_to_renewal": 30}, health_score=59), "renewal_at_risk")
    assert flag is not None
    assert flag.level == "red"
    assert flag.message == "Renewal in 30 days with poor health (59/100)"
    assert flag.evidence == {"days_to_renewal": 30, "health_score": 59}


def test_renewal_at_risk_singular_day_and_renewal_today():
    assert only(flags_for(subscription={"days_to_renewal": 1}, health_score=40), "renewal_at_risk").message == (
        "Renewal in 1 day with poor health (40/100)"
    )
    assert only(flags_for(subscription={"days_to_renewal": 0}, health_score=40), "renewal_at_risk").message == (
        "Renewal in 0 days with poor health (40/100)"
    )


def test_renewal_at_risk_needs_renewal_within_window():
    assert only(flags_for(subscription={"days_to_renewal": 31}, health_score=20), "renewal_at_risk") is None


def test_renewal_at_risk_needs_poor_health():
    assert only(flags_for(subscription={"days_to_renewal": 10}, health_score=60), "renewal_at_risk") is None


def test_renewal_at_risk_needs_both_conditions_not_either():
    assert only(flags_for(subscription={"days_to_renewal": 200}, health_score=59), "renewal_at_risk") is None
    assert only(flags_for(subscription={"days_to_renewal": 30}, health_score=80), "renewal_at_risk") is None
    assert only(flags_for(subscription={"days_to_renewal": 30}, health_score=59), "renewal_at_risk") is not None


def test_renewal_at_risk_not_raised_without_renewal_date_or_when_renewal_has_passed():
    assert only(flags_for(subscription={"days_to_renewal": None}, health_score=10), "renewal_at_risk") is None
    assert only(flags_for(subscription={"days_to_renewal": -1}, health_score=10), "renewal_at_risk") is None


# --- low_csat ------------------------------------------------------------------------------


def test_low_csat_red_at_or_below_critical_threshold():
    flag = only(flags_for(support={"avg_csat": 2.5, "csat_responses": 2}), "low_csat")
    assert flag is not None
    assert flag.level == "red"
    assert flag.message == "Low CSAT: 2.5/5 over 2 ratings"
    assert flag.evidence == {"avg_csat": 2.5, "csat_responses": 2}


def test_low_csat_yellow_just_above_critical_threshold():
    flag = only(flags_for(support={"avg_csat": 2.6, "csat_responses": 4}), "low_csat")
    assert flag is not None
    assert flag.level == "yellow"
    assert flag.message == "Low CSAT: 2.6/5 over 4 ratings"


def test_low_csat_yellow_just_below_low_threshold():
    flag = only(flags_for(support={"avg_csat": 3.4, "csat_responses": 2}), "low_csat")
    assert flag is not None
    assert flag.level == "yellow"


def test_low_csat_not_raised_at_low_threshold():
    assert only(flags_for(support={"avg_csat": 3.5, "csat_responses": 10}), "low_csat") is None


def test_low_csat_needs_at_least_two_ratings():
    assert only(flags_for(support={"avg_csat": 1.0, "csat_responses": 1}), "low_csat") is None


def test_low_csat_not_raised_without_ratings():
    assert only(flags_for(support={"avg_csat": None, "csat_responses": 0}), "low_csat") is None


# --- trial_ending ----------------------------------------------------------------------


def trial(days: int | None) -> dict:
    ends = TODAY + dt.timedelta(days=days) if days is not None else None
    return {"status": "trialing", "is_trial": True, "trial_ends_at": ends, "days_to_trial_end": days, "days_to_renewal": None}


def test_trial_ending_yellow_within_seven_days():
    flag = only(flags_for(subscription=trial(7)), "trial_ending")
    assert flag is not None
    assert flag.level == "yellow"
    assert flag.message == "Trial ends in 7 days - help them convert"
    assert flag.evidence == {"days_to_trial_end": 7, "trial_ends_at": "2025-11-21"}


def test_trial_ending_not_raised_eight_days_out():
    assert only(flags_for(subscription=trial(8)), "trial_ending") is None


def test_trial_ending_messages_for_one_day_and_today():
    assert only(flags_for(subscription=trial(1)), "trial_ending").message == "Trial ends in 1 day - help them convert"
    assert only(flags_for(subscription=trial(0)), "trial_ending").message == "Trial ends today - help them convert"


def test_trial_ending_not_raised_once_the_trial_has_ended():
    assert only(flags_for(subscription=trial(-1)), "trial_ending") is None


# --- trial_expired, renewal_date_passed, canceled (lifecycle) --------------------------------


def test_trial_expired_red_says_how_many_days_ago():
    flag = only(flags_for(subscription=trial(-2)), "trial_expired")
    assert flag is not None
    assert flag.level == "red"
    assert flag.message == "Trial ended 2 days ago"
    assert flag.evidence == {"days_since_trial_end": 2, "trial_ends_at": "2025-11-12"}
    assert only(flags_for(subscription=trial(-1)), "trial_expired").message == "Trial ended 1 day ago"


def test_trial_expired_not_raised_today_or_later():
    assert only(flags_for(subscription=trial(0)), "trial_expired") is None
    assert only(flags_for(subscription=trial(3)), "trial_expired") is None


def test_renewal_date_passed_yellow_with_the_date():
    passed = {"renewal_date": TODAY - dt.timedelta(days=3), "days_to_renewal": -3}
    flag = only(flags_for(subscription=passed), "renewal_date_passed")
    assert flag is not None
    assert flag.level == "yellow"
    assert flag.message == "Renewal date passed 3 days ago (2025-11-11)"
    assert flag.evidence == {"days_since_renewal_date": 3, "renewal_date": "2025-11-11"}
    assert only(flags_for(subscription={**passed, "status": "past_due"}), "renewal_date_passed") is not None


def test_renewal_date_passed_not_raised_today_nor_for_trials():
    assert only(flags_for(subscription={"renewal_date": TODAY, "days_to_renewal": 0}), "renewal_date_passed") is None
    assert only(flags_for(subscription=trial(-2) | {"days_to_renewal": -2}), "renewal_date_passed") is None


CANCELED = {
    "status": "canceled",
    "canceled_at": dt.date(2025, 11, 4),
    "mrr": Decimal("0.00"),
    "last_mrr": Decimal("250.00"),
    "plan": "premium",
    "days_to_renewal": None,
}


def test_canceled_red_with_its_date_and_evidence():
    flag = only(flags_for(subscription=CANCELED), "canceled")
    assert flag is not None
    assert flag.level == "red"
    assert flag.message == "Canceled on 2025-11-04"
    assert flag.evidence == {"canceled_at": "2025-11-04", "last_mrr": "250.00", "plan": "premium"}
    undated = only(flags_for(subscription={**CANCELED, "canceled_at": None}), "canceled")
    assert undated.message == "Canceled (date not recorded)"


def test_canceled_account_raises_no_usage_seat_trial_or_renewal_flag():
    raised = flags_for(
        engagement={"login_count_30d": 0, "login_count_prev_30d": 40, "last_login_at": NOW - dt.timedelta(days=40)},
        support={"avg_csat": 4.9, "csat_responses": 9},
        subscription={**CANCELED, "seats_purchased": 10, "seats_used": 1, "seat_utilization": 0.1},
        health_score=20,
    )
    assert codes(raised) == {"canceled"}


def test_canceled_account_keeps_payment_support_and_incident_flags():
    raised = flags_for(
        support={"urgent_open_tickets": 1, "avg_csat": 2.0, "csat_responses": 4},
        subscription={**CANCELED, "failed_invoices_90d": 1},
        product_status=incidents(("Reports are slow", "major", True)),
    )
    assert codes(raised) == {"canceled", "payment_failed", "urgent_tickets_open", "low_csat", "incident_affecting_customer"}
    assert raised[0].code == "canceled"


def test_trial_ending_only_for_trials():
    not_trial = {**trial(3), "is_trial": False, "status": "active"}
    assert only(flags_for(subscription=not_trial), "trial_ending") is None
    assert only(flags_for(subscription=trial(None)), "trial_ending") is None


# --- seats_underused --------------------------------------------------------------------


def test_seats_underused_yellow_below_forty_percent_with_five_or_more_seats():
    flag = only(flags_for(subscription={"seats_purchased": 10, "seats_used": 3, "seat_utilization": 0.3}), "seats_underused")
    assert flag is not None
    assert flag.level == "yellow"
    assert flag.message == "Only 3/10 seats in use"
    assert flag.evidence == {"seats_used": 3, "seats_purchased": 10}


def test_seats_underused_not_raised_at_forty_percent():
    assert only(flags_for(subscription={"seats_purchased": 10, "seats_used": 4, "seat_utilization": 0.4}), "seats_underused") is None


def test_seats_underused_needs_five_seats():
    assert only(flags_for(subscription={"seats_purchased": 5, "seats_used": 1, "seat_utilization": 0.2}), "seats_underused") is not None
    assert only(flags_for(subscription={"seats_purchased": 4, "seats_used": 1, "seat_utilization": 0.25}), "seats_underused") is None


# --- inactive --------------------------------------------------------------------------


def test_inactive_yellow_after_fourteen_days_without_login():
    flag = only(flags_for(engagement={"last_login_at": NOW - dt.timedelta(days=14)}), "inactive")
    assert flag is not None
    assert flag.level == "yellow"
    assert flag.message == "No login for 14 days"
    assert flag.evidence == {"days_since_last_login": 14}


def test_inactive_not_raised_thirteen_days_after_last_login():
    assert only(flags_for(engagement={"last_login_at": NOW - dt.timedelta(days=13)}), "inactive") is None


def test_inactive_when_no_login_was_ever_recorded():
    flag = only(flags_for(engagement={"last_login_at": None}), "inactive")
    assert flag is not None
    assert flag.message == "No login recorded"
    assert flag.evidence == {"days_since_last_login": None}


def test_inactive_not_raised_for_customers_younger_than_the_window():
    assert only(flags_for(intel={"days_as_customer": 13}, engagement={"last_login_at": None}), "inactive") is None
    assert only(flags_for(intel={"days_as_customer": 14}, engagement={"last_login_at": None}), "inactive") is not None


# --- high_engagement ----------------------------------------------------------------------


def test_high_engagement_green_at_forty_logins():
    flag = only(flags_for(engagement={"login_count_30d": 40, "login_count_prev_30d": 40}), "high_engagement")
    assert flag is not None
    assert flag.level == "green"
    assert flag.message == "High engagement - upsell opportunity"
    assert flag.evidence == {"login_count_30d": 40, "feature_adoption_score": 0.5}


def test_high_engagement_not_raised_at_thirty_nine_logins():
    assert only(flags_for(engagement={"login_count_30d": 39, "login_count_prev_30d": 39}), "high_engagement") is None


def test_high_engagement_suppressed_when_logins_dropped():
    raised = flags_for(engagement={"login_count_30d": 45, "login_count_prev_30d": 100})
    assert "high_engagement" not in codes(raised)
    assert "login_drop" in codes(raised)


def test_high_engagement_with_no_previous_period_is_not_a_drop():
    assert only(flags_for(engagement={"login_count_30d": 40, "login_count_prev_30d": 0}), "high_engagement") is not None


# --- seats_nearly_full ----------------------------------------------------------------------


def test_seats_nearly_full_green_at_ninety_percent():
    flag = only(flags_for(subscription={"seats_purchased": 10, "seats_used": 9, "seat_utilization": 0.9}), "seats_nearly_full")
    assert flag is not None
    assert flag.level == "green"
    assert flag.message == "Seats nearly full (9/10) - expansion opportunity"
    assert flag.evidence == {"seats_used": 9, "seats_purchased": 10}


def test_seats_nearly_full_not_raised_just_below_ninety_percent():
    sub = {"seats_purchased": 100, "seats_used": 89, "seat_utilization": 0.89}
    assert only(flags_for(subscription=sub), "seats_nearly_full") is None


def test_seats_nearly_full_not_raised_without_seats():
    sub = {"seats_purchased": 0, "seats_used": 0, "seat_utilization": 1.0}
    assert only(flags_for(subscription=sub), "seats_nearly_full") is None


# --- high_csat -------------------------------------------------------------------------------


def test_high_csat_green_at_four_and_a_half_over_five_ratings():
    flag = only(flags_for(support={"avg_csat": 4.5, "csat_responses": 5}), "high_csat")
    assert flag is not None
    assert flag.level == "green"
    assert flag.message == "High CSAT scores - ask for referral"
    assert flag.evidence == {"avg_csat": 4.5, "csat_responses": 5}


def test_high_csat_not_raised_below_four_and_a_half():
    assert only(flags_for(support={"avg_csat": 4.49, "csat_responses": 50}), "high_csat") is None


def test_high_csat_needs_five_ratings():
    assert only(flags_for(support={"avg_csat": 5.0, "csat_responses": 4}), "high_csat") is None


# --- incident_affecting_customer ---------------------------------------------------------------


def test_incident_affecting_customer_red_for_an_affecting_incident():
    flag = only(flags_for(product_status=incidents(("Reports are slow", "minor", True))), "incident_affecting_customer")
    assert flag is not None and flag.level == "red"
    assert flag.message == "Active incident affecting this customer: Reports are slow (minor)"
    assert flag.evidence["count"] == 1 and flag.evidence["incidents"][0]["id"] == "inc_0"


def test_incident_affecting_customer_not_raised_for_incidents_elsewhere_or_without_impact():
    assert only(flags_for(product_status=incidents(("EU mail delays", "major", False))), "incident_affecting_customer") is None
    assert only(flags_for(product_status=incidents(("Cosmetic glitch", "none", True))), "incident_affecting_customer") is None
    assert only(flags_for(), "incident_affecting_customer") is None


def test_incident_affecting_customer_counts_the_others():
    status = incidents(("API errors", "critical", True), ("Slow reports", "minor", True), ("EU only", "major", False))
    flag = only(flags_for(product_status=status), "incident_affecting_customer")
    assert flag.message == "Active incident affecting this customer: API errors (critical) (+1 more)"
    assert flag.evidence["count"] == 2


# --- every rule is exercised above -------------------------------------------------------------

CODES_EXERCISED = {
    "canceled",
    "trial_expired",
    "renewal_date_passed",
    "incident_affecting_customer",
    "payment_failed",
    "urgent_tickets_open",
    "login_drop",
    "renewal_at_risk",
    "low_csat",
    "trial_ending",
    "seats_underused",
    "inactive",
    "high_engagement",
    "seats_nearly_full",
    "high_csat",
}


def test_every_registered_rule_has_threshold_tests_in_this_module():
    assert set(RULES) == CODES_EXERCISED


# --- settings overrides --------------------------------------------------------------------------


def test_threshold_override_from_settings_takes_effect(settings):
    drop_70_of_100 = {"login_count_30d": 70, "login_count_prev_30d": 100}
    assert only(flags_for(engagement=drop_70_of_100), "login_drop") is None

    settings.ENRICHMENT_FLAG_THRESHOLDS = {"login_drop_ratio": 0.8}
    flag = only(flags_for(engagement=drop_70_of_100), "login_drop")
    assert flag is not None
    assert flag.message == "Logins down 30% vs previous 30 days (70 vs 100)"


def test_threshold_override_applies_one_key_and_keeps_the_other_defaults(settings):
    settings.ENRICHMENT_FLAG_THRESHOLDS = {"high_engagement_logins": 20}
    raised = flags_for(engagement={"login_count_30d": 20, "login_count_prev_30d": 20})
    assert "high_engagement" in codes(raised)
    # the other thresholds are still the defaults
    assert flags_module.thresholds() == {**DEFAULT_THRESHOLDS, "high_engagement_logins": 20}
    assert only(flags_for(engagement={"login_count_30d": 50, "login_count_prev_30d": 100}), "login_drop") is None


def test_override_of_csat_thresholds_moves_red_yellow_boundary(settings):
    settings.ENRICHMENT_FLAG_THRESHOLDS = {"csat_critical": 3.0, "csat_min_responses": 1}
    flag = only(flags_for(support={"avg_csat": 3.0, "csat_responses": 1}), "low_csat")
    assert flag is not None
    assert flag.level == "red"


def test_override_of_inactive_days(settings):
    settings.ENRICHMENT_FLAG_THRESHOLDS = {"inactive_days": 7}
    flag = only(flags_for(engagement={"last_login_at": NOW - dt.timedelta(days=7)}), "inactive")
    assert flag is not None
    assert flag.message == "No login for 7 days"


# --- ordering -------------------------------------------------------------------------------------

EVERYTHING_AT_ONCE = {
    "intel": {"days_as_customer": 400},
    "engagement": {"login_count_30d": 45, "login_count_prev_30d": 45, "last_login_at": NOW - dt.timedelta(days=20)},
    "support": {"urgent_open_tickets": 1, "avg_csat": 3.0, "csat_responses": 6},
    "subscription": {"status": "past_due", "seats_purchased": 10, "seats_used": 9, "seat_utilization": 0.9, "days_to_renewal": 10},
    "health_score": 30,
    "product_status": incidents(("Reports are slow", "major", True)),
}


LIFECYCLE_PROFILES = [
    {"subscription": CANCELED},
    {"subscription": trial(-2)},
    {"subscription": {"renewal_date": TODAY - dt.timedelta(days=3), "days_to_renewal": -3}},
]


def test_flags_are_sorted_red_then_yellow_then_green():
    raised = flags_for(**EVERYTHING_AT_ONCE)
    levels = [f.level for f in raised]
    assert set(levels) == {"red", "yellow", "green"}
    assert levels == sorted(levels, key=["red", "yellow", "green"].index)


def test_flags_sorted_by_level_even_when_rules_are_registered_in_reverse(monkeypatch):
    monkeypatch.setattr(flags_module, "RULES", dict(reversed(list(RULES.items()))))
    raised = flags_for(**EVERYTHING_AT_ONCE)
    levels = [f.level for f in raised]
    assert levels[0] == "red"
    assert levels[-1] == "green"
    assert levels == sorted(levels, key=["red", "yellow", "green"].index)


def test_flags_within_a_level_keep_registration_order():
    raised = flags_for(**EVERYTHING_AT_ONCE)
    order = list(RULES)
    for level in ("red", "yellow", "green"):
        in_level = [f.code for f in raised if f.level == level]
        assert in_level == sorted(in_level, key=order.index)


# --- the docstring table cannot drift from the registry -----------------------------------------


def documented_rules() -> dict[str, set[str]]:
    """code -> documented levels, parsed from the table in flags.py's docstring."""
    doc = flags_module.__doc__ or ""
    lines = doc.splitlines()
    borders = [i for i, line in enumerate(lines) if re.fullmatch(r"=+(\s+=+)+\s*", line)]
    assert len(borders) >= 3, "flags.py docstring lost its rule table"
    body = lines[borders[1] + 1 : borders[2]]
    table: dict[str, set[str]] = {}
    current = None
    for line in body:
        match = re.match(r"^([a-z_]+)?\s+(red|yellow|green)\b", line)
        head = re.match(r"^([a-z_]+)\s", line)
        if head and head.group(1) not in ("red", "yellow", "green"):
            current = head.group(1)
            table.setdefault(current, set())
        if match and current:
            table[current].add(match.group(2))
    return table


def test_every_rule_code_is_documented_in_flags_docstring():
    documented = documented_rules()
    missing = set(RULES) - set(documented)
    assert not missing, f"flag codes missing from flags.py docstring table: {sorted(missing)}"


def test_flags_docstring_documents_no_code_that_is_not_registered():
    extra = set(documented_rules()) - set(RULES)
    assert not extra, f"flags.py docstring documents unregistered codes: {sorted(extra)}"


def test_flags_docstring_levels_match_the_levels_rules_raise():
    raised_levels: dict[str, set[str]] = {}
    profiles = [
        EVERYTHING_AT_ONCE,
        {"support": {"avg_csat": 2.0, "csat_responses": 5}},
        {"support": {"avg_csat": 4.8, "csat_responses": 9}},
        {"subscription": trial(3)},
        {"subscription": {"seats_purchased": 10, "seats_used": 1, "seat_utilization": 0.1}},
        {"engagement": {"login_count_30d": 1, "login_count_prev_30d": 40}},
        *LIFECYCLE_PROFILES,
    ]
    for profile in profiles:
        for flag in flags_for(**profile):
            raised_levels.setdefault(flag.code, set()).add(flag.level)
    assert set(raised_levels) == set(RULES)
    documented = documented_rules()
    for code, levels in raised_levels.items():
        assert levels <= documented[code], f"{code} raised {levels} but docs say {documented[code]}"


def test_documented_default_thresholds_match_default_thresholds():
    doc = flags_module.__doc__ or ""
    for name, value in re.findall(r"``(\w+)`` \(([\d.]+)\)", doc):
        assert name in DEFAULT_THRESHOLDS, f"docstring names unknown threshold {name}"
        assert float(value) == DEFAULT_THRESHOLDS[name], name


@pytest.mark.parametrize("code", sorted(RULES))
def test_each_rule_returns_flags_carrying_its_own_code(code):
    raised_by_code = {}
    for profile in (
        EVERYTHING_AT_ONCE,
        {"support": {"avg_csat": 4.8, "csat_responses": 9}},
        {"subscription": trial(3)},
        {"subscription": {"seats_purchased": 10, "seats_used": 1, "seat_utilization": 0.1}},
        {"engagement": {"login_count_30d": 1, "login_count_prev_30d": 40}},
        *LIFECYCLE_PROFILES,
    ):
        for flag in flags_for(**profile):
            raised_by_code.setdefault(flag.code, flag)
    assert code in raised_by_code
    assert raised_by_code[code].level in ("red", "yellow", "green")
    assert raised_by_code[code].message
