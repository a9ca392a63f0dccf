"""Health score and churn risk (enrichment/scoring.py), computed by hand from the
factor table in its docstring. Pure Python, no database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from enrichment.context.sections import CustomerIntelligence, EngagementMetrics, SubscriptionDetails, SupportHistory
from enrichment.rules.health import assess
from enrichment.rules.scoring import DEFAULT_WEIGHTS, churn_risk_level, health_label, weights

TODAY = dt.date(2025, 11, 14)
NOW = dt.datetime(2025, 11, 14, 9, 0, tzinfo=dt.UTC)

FACTORS = ["engagement", "login_trend", "feature_adoption", "csat", "support_load", "payment", "seat_utilization", "tenure"]


def sections(
    *,
    days_as_customer: int,
    logins: int,
    logins_prev: int,
    adoption: float,
    seats: int,
    seats_used: int,
    avg_csat: float | None,
    csat_responses: int = 0,
    open_tickets: int = 0,
    urgent: int = 0,
    status: str = "active",
    failed_invoices: int = 0,
    days_to_renewal: int | None = 200,
) -> dict:
    return {
        "customer_intelligence": CustomerIntelligence(company_name="X", days_as_customer=days_as_customer),
        "engagement_metrics": EngagementMetrics(
            login_count_30d=logins,
            login_count_prev_30d=logins_prev,
            last_login_at=NOW - dt.timedelta(hours=2),
            feature_adoption_score=adoption,
        ),
        "support_history": SupportHistory(
            open_tickets=open_tickets, urgent_open_tickets=urgent, avg_csat=avg_csat, csat_responses=csat_responses
        ),
        "subscription_details": SubscriptionDetails(
            status=status,
            seats_purchased=seats,
            seats_used=seats_used,
            seat_utilization=round(seats_used / seats, 3) if seats else 0.0,
            failed_invoices_90d=failed_invoices,
            days_to_renewal=days_to_renewal,
            is_trial=status == "trialing",
        ),
    }


def acme() -> dict:
    """The seed's customer_123: 45 logins (40 before), 8 of 10 seats, adoption 0.5,
    CSAT 4.5 over 10 ratings, 1 open ticket (none urgent), active and paid,
    152 days a customer."""
    return sections(
        days_as_customer=152,
        logins=45,
        logins_prev=40,
        adoption=0.5,
        seats=10,
        seats_used=8,
        avg_csat=4.5,
        csat_responses=10,
        open_tickets=1,
        urgent=0,
        status="active",
        days_to_renewal=28,
    )


def at_risk() -> dict:
    """Past due, logins collapsed (8 vs 40), two urgent tickets among four open,
    poor CSAT, 3 of 10 seats used, renewal in 20 days."""
    return sections(
        days_as_customer=400,
        logins=8,
        logins_prev=40,
        adoption=0.25,
        seats=10,
        seats_used=3,
        avg_csat=2.0,
        csat_responses=4,
        open_tickets=4,
        urgent=2,
        status="past_due",
        days_to_renewal=20,
    )


def points(health) -> dict[str, float]:
    return {f.factor: f.points for f in health.breakdown}


def exact_sum(health) -> Decimal:
    """The breakdown's points as shown (two decimals), added up exactly."""
    return sum((Decimal(str(f.points)) for f in health.breakdown), Decimal(0))


# --- hand-computed profiles ---------------------------------------------------------------


def test_acme_profile_scores_85_good_with_low_churn():
    health = assess(acme(), today=TODAY)
    expected = {
        "engagement": 22.5,  # 45 logins / 10 seats = 4.5 per seat; 4.5 / 5 = 0.9 x 25
        "login_trend": 15.0,  # 45 >= 40: held or grew -> 1 x 15
        "feature_adoption": 7.5,  # 0.5 x 15
        "csat": 8.75,  # (4.5 - 1) / 4 = 0.875 x 10
        "support_load": 5.0,  # 1 open, none urgent -> 1 x 5
        "payment": 15.0,  # active and paid -> 1 x 15
        "seat_utilization": 10.0,  # 0.8 / 0.8 = 1 x 10
        "tenure": 2.08,  # 152 / 30.4 = 5 months; 5 / 12 x 5 = 2.0833
    }
    assert points(health) == pytest.approx(expected)
    assert sum(expected.values()) == pytest.approx(85.83)
    assert health.health_score == 85
    assert health.health_label == "Good"
    assert health.churn_risk == pytest.approx(0.15)  # (100 - 85) / 100, no additions
    assert health.churn_risk_level == "low"


def test_acme_profile_breakdown_lists_every_factor_with_weight_raw_and_rule():
    health = assess(acme(), today=TODAY)
    assert [f.factor for f in health.breakdown] == FACTORS
    by_factor = {f.factor: f for f in health.breakdown}
    assert {name: f.weight for name, f in by_factor.items()} == DEFAULT_WEIGHTS
    assert by_factor["engagement"].raw == pytest.approx(4.5)
    assert by_factor["login_trend"].raw == pytest.approx(1.125)
    assert by_factor["feature_adoption"].raw == pytest.approx(0.5)
    assert by_factor["csat"].raw == pytest.approx(4.5)
    assert by_factor["support_load"].raw == pytest.approx(1.0)
    assert by_factor["seat_utilization"].raw == pytest.approx(0.8)
    assert by_factor["tenure"].raw == pytest.approx(5.0)
    assert all(f.rule for f in health.breakdown)


def test_acme_profile_raises_the_seed_flags():
    health = assess(acme(), today=TODAY)
    assert health.red_flags == ()
    assert health.yellow_flags == ()
    # 45 logins, no drop; 8/10 seats is under 90%; CSAT 4.5 over 10 ratings
    assert [f.code for f in health.flags] == ["high_engagement", "high_csat"]
    assert health.green_flags == ("High engagement - upsell opportunity", "High CSAT scores - ask for referral")


def test_at_risk_profile_scores_critical_with_high_churn_and_red_flags():
    health = assess(at_risk(), today=TODAY)
    expected = {
        "engagement": 4.0,  # 8 / 10 = 0.8 per seat; 0.8 / 5 = 0.16 x 25
        "login_trend": 0.0,  # 8 / 40 = 0.2 of previous: a drop of 80% -> 0
        "feature_adoption": 3.75,  # 0.25 x 15
        "csat": 2.5,  # (2 - 1) / 4 = 0.25 x 10
        "support_load": 0.0,  # 1 - 2 x 0.5 - (4 - 2) x 0.1 = -0.2 -> 0
        "payment": 0.0,  # past due
        "seat_utilization": 3.75,  # 0.3 / 0.8 = 0.375 x 10
        "tenure": 5.0,  # 400 / 30.4 = 13.2 months, capped at 12 -> 1 x 5
    }
    assert points(health) == pytest.approx(expected)
    assert health.health_score == 19
    assert health.health_label == "Critical"
    # (100 - 19) / 100 = 0.81 + 0.10 drop + 0.10 payment + 0.05 renewal with poor health = 1.06 -> 1.0
    assert health.churn_risk == pytest.approx(1.0)
    assert health.churn_risk_level == "high"
    assert [f.code for f in health.flags if f.level == "red"] == [
        "payment_failed",
        "urgent_tickets_open",
        "login_drop",
        "renewal_at_risk",
        "low_csat",
    ]
    assert [f.code for f in health.flags if f.level == "yellow"] == ["seats_underused"]
    assert health.green_flags == ()
    assert health.red_flags[0] == "Payment failed - subscription past due"


def test_trialing_new_customer_without_ratings_or_previous_logins():
    health = assess(
        sections(
            days_as_customer=0,
            logins=12,
            logins_prev=0,
            adoption=0.25,
            seats=4,
            seats_used=2,
            avg_csat=None,
            status="trialing",
            days_to_renewal=None,
        ),
        today=TODAY,
    )
    expected = {
        "engagement": 15.0,  # 12 / 4 = 3 per seat; 3 / 5 = 0.6 x 25
        "login_trend": 15.0,  # no previous logins but active now -> 1
        "feature_adoption": 3.75,  # 0.25 x 15
        "csat": 7.0,  # no ratings: neutral 0.7 x 10
        "support_load": 5.0,
        "payment": 9.0,  # trialing 0.6 x 15
        "seat_utilization": 6.25,  # 0.5 / 0.8 = 0.625 x 10
        "tenure": 0.0,
    }
    assert points(health) == pytest.approx(expected)
    assert health.health_score == 61  # 61.0
    assert health.health_label == "Fair"
    assert health.churn_risk == pytest.approx(0.39)
    assert health.churn_risk_level == "medium"


def test_no_logins_at_all_scores_half_on_trend_and_failed_invoice_zeroes_payment():
    health = assess(
        sections(
            days_as_customer=365,
            logins=0,
            logins_prev=0,
            adoption=0.0,
            seats=5,
            seats_used=5,
            avg_csat=1.0,
            csat_responses=3,
            open_tickets=0,
            status="active",
            failed_invoices=1,
        ),
        today=TODAY,
    )
    expected = {
        "engagement": 0.0,
        "login_trend": 7.5,  # no logins before or now: 0.5 x 15
        "feature_adoption": 0.0,
        "csat": 0.0,  # (1 - 1) / 4
        "support_load": 5.0,
        "payment": 0.0,  # active but a failed invoice in 90 days
        "seat_utilization": 10.0,  # 1.0 / 0.8 capped at 1
        "tenure": 5.0,  # 12 months
    }
    assert points(health) == pytest.approx(expected)
    assert health.health_score == 27
    # 0.73 + 0.10 payment problem
    assert health.churn_risk == pytest.approx(0.83)


def test_login_trend_is_linear_between_half_and_full_previous_logins():
    # 30 of 40 = 0.75 of previous: (0.75 - 0.5) / 0.5 = 0.5 x 15 = 7.5
    health = assess(
        sections(days_as_customer=400, logins=30, logins_prev=40, adoption=0.5, seats=10, seats_used=8, avg_csat=None), today=TODAY
    )
    assert points(health)["login_trend"] == pytest.approx(7.5)


def test_support_load_minus_a_tenth_per_open_ticket_beyond_two():
    health = assess(
        sections(days_as_customer=400, logins=30, logins_prev=30, adoption=0.5, seats=10, seats_used=8, avg_csat=None, open_tickets=5),
        today=TODAY,
    )
    assert points(health)["support_load"] == pytest.approx(3.5)  # 1 - 3 x 0.1 = 0.7 x 5


# --- churn risk additions ---------------------------------------------------------------------


def test_churn_adds_for_renewal_within_30_days_only_with_health_under_60():
    poor = sections(days_as_customer=400, logins=5, logins_prev=5, adoption=0.0, seats=10, seats_used=2, avg_csat=None, days_to_renewal=30)
    health = assess(poor, today=TODAY)
    assert health.health_score < 60
    base = (100 - health.health_score) / 100
    assert health.churn_risk == pytest.approx(round(base + 0.05, 2))

    later = sections(days_as_customer=400, logins=5, logins_prev=5, adoption=0.0, seats=10, seats_used=2, avg_csat=None, days_to_renewal=31)
    health_later = assess(later, today=TODAY)
    assert health_later.health_score == health.health_score
    assert health_later.churn_risk == pytest.approx(round(base, 2))


def test_churn_adds_for_login_drop_over_half_but_not_at_exactly_half():
    exactly_half = assess(
        sections(days_as_customer=400, logins=50, logins_prev=100, adoption=1.0, seats=10, seats_used=10, avg_csat=5.0),
        today=TODAY,
    )
    assert exactly_half.churn_risk == pytest.approx((100 - exactly_half.health_score) / 100)

    over_half = assess(
        sections(days_as_customer=400, logins=49, logins_prev=100, adoption=1.0, seats=10, seats_used=10, avg_csat=5.0),
        today=TODAY,
    )
    assert over_half.churn_risk == pytest.approx(round((100 - over_half.health_score) / 100 + 0.10, 2))


# --- label boundaries ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "label"),
    [
        (100, "Good"),
        (80, "Good"),
        (79, "Fair"),
        (60, "Fair"),
        (59, "At Risk"),
        (40, "At Risk"),
        (39, "Critical"),
        (0, "Critical"),
    ],
)
def test_health_label_boundaries(score, label):
    assert health_label(score) == label


@pytest.mark.parametrize(
    ("risk", "level"),
    [
        (0.0, "low"),
        (0.29, "low"),
        (0.3, "medium"),
        (0.59, "medium"),
        (0.6, "high"),
        (1.0, "high"),
    ],
)
def test_churn_risk_level_boundaries(risk, level):
    assert churn_risk_level(risk) == level


# --- weights from settings ------------------------------------------------------------------------


def test_default_weights_total_100():
    assert sum(weights().values()) == pytest.approx(100.0)
    assert weights() == pytest.approx(DEFAULT_WEIGHTS)


def test_weights_override_is_renormalised_to_100(settings):
    settings.ENRICHMENT_HEALTH_WEIGHTS = {"engagement": 50, "tenure": 0}
    # 25 + 15 + 15 + 10 + 5 + 15 + 10 + 0 with engagement 50 -> 120 raw points
    w = weights()
    assert sum(w.values()) == pytest.approx(100.0)
    assert w["engagement"] == pytest.approx(50 * 100 / 120)
    assert w["login_trend"] == pytest.approx(15 * 100 / 120)
    assert w["tenure"] == 0

    health = assess(acme(), today=TODAY)
    scores = {
        "engagement": 0.9,
        "login_trend": 1.0,
        "feature_adoption": 0.5,
        "csat": 0.875,
        "support_load": 1.0,
        "payment": 1.0,
        "seat_utilization": 1.0,
        "tenure": 5 / 12,
    }
    raw = {**DEFAULT_WEIGHTS, "engagement": 50, "tenure": 0}
    expected = {name: round(raw[name] * 100 / 120 * scores[name], 2) for name in FACTORS}
    # 37.5 + 12.5 + 6.25 + 7.29 + 4.17 + 12.5 + 8.33 + 0 = 88.54
    assert points(health) == pytest.approx(expected)
    assert health.health_score == 88
    assert sum(f.weight for f in health.breakdown) == pytest.approx(100.0, abs=0.05)
    assert {f.factor: f.weight for f in health.breakdown}["engagement"] == pytest.approx(41.67)


def test_scaling_every_weight_by_the_same_factor_changes_nothing(settings):
    baseline = assess(acme(), today=TODAY)
    settings.ENRICHMENT_HEALTH_WEIGHTS = {name: value * 3 for name, value in DEFAULT_WEIGHTS.items()}
    scaled = assess(acme(), today=TODAY)
    assert scaled.health_score == baseline.health_score
    assert points(scaled) == pytest.approx(points(baseline))


# --- breakdown and score agree; clamping --------------------------------------------------------------


@pytest.mark.parametrize("profile", [acme, at_risk], ids=["acme", "at_risk"])
def test_breakdown_points_sum_to_the_score(profile):
    health = assess(profile(), today=TODAY)
    assert health.health_score == int(exact_sum(health))


def test_score_is_the_floor_of_the_breakdown_points_even_when_the_float_sum_falls_short():
    """20 logins before, 11 now, 2 of 8 seats, no ratings, active, a year old.

    Points as the breakdown shows them: 6.88 + 1.5 + 7.5 + 7.0 + 5.0 + 15.0 + 3.12 + 5.0
    = 51.00 exactly, so the score must be 51 ("why is this score 51?" must be
    answerable from the breakdown). Adding the floats gives 50.99999999999999,
    and int() of that is 50.
    """
    health = assess(
        sections(days_as_customer=365, logins=11, logins_prev=20, adoption=0.5, seats=8, seats_used=2, avg_csat=None),
        today=TODAY,
    )
    expected = {
        "engagement": 6.88,  # 11 / 8 = 1.375 per seat; / 5 = 0.275 x 25 = 6.875
        "login_trend": 1.5,  # 11 / 20 = 0.55: (0.55 - 0.5) / 0.5 = 0.1 x 15
        "feature_adoption": 7.5,
        "csat": 7.0,
        "support_load": 5.0,
        "payment": 15.0,
        "seat_utilization": 3.12,  # 0.25 / 0.8 = 0.3125 x 10 = 3.125
        "tenure": 5.0,
    }
    assert points(health) == pytest.approx(expected)
    assert exact_sum(health) == Decimal("51.00")
    assert health.health_score == 51


def test_perfect_account_scores_exactly_100():
    health = assess(
        sections(days_as_customer=730, logins=500, logins_prev=100, adoption=1.0, seats=10, seats_used=10, avg_csat=5.0, csat_responses=20),
        today=TODAY,
    )
    assert health.health_score == 100
    assert health.health_label == "Good"
    assert health.churn_risk == pytest.approx(0.0)


def test_score_is_clamped_at_100_with_negative_weights(settings):
    # A negative payment weight with a payment problem pushes the sum above 100.
    settings.ENRICHMENT_HEALTH_WEIGHTS = {"payment": -50}
    health = assess(
        sections(
            days_as_customer=730,
            logins=500,
            logins_prev=100,
            adoption=1.0,
            seats=10,
            seats_used=10,
            avg_csat=5.0,
            csat_responses=20,
            status="past_due",
        ),
        today=TODAY,
    )
    assert float(exact_sum(health)) > 100
    assert health.health_score == 100


def test_score_is_clamped_at_0_with_negative_weights(settings):
    settings.ENRICHMENT_HEALTH_WEIGHTS = {"payment": -50}
    health = assess(
        sections(days_as_customer=0, logins=0, logins_prev=0, adoption=0.0, seats=10, seats_used=0, avg_csat=1.0, csat_responses=3),
        today=TODAY,
    )
    assert float(exact_sum(health)) < 0
    assert health.health_score == 0
    assert health.health_label == "Critical"
    assert 0.0 <= health.churn_risk <= 1.0


def test_empty_sections_give_a_bounded_score():
    health = assess({}, today=TODAY)
    assert 0 <= health.health_score <= 100
    assert [f.factor for f in health.breakdown] == FACTORS
    assert 0.0 <= health.churn_risk <= 1.0
