"""Next best action from outcomes: observed effects, thin evidence, and the ranking they give."""

from __future__ import annotations

import datetime as dt

from enrichment.churn import outcomes
from enrichment.churn.dataset import Snapshot
from enrichment.churn.facts import AccountFacts
from enrichment.churn.outcomes import MIN_EVIDENCE, action_effects
from enrichment.churn.serving import actions_ranked, churn_model_reload
from enrichment.context.sections import NextAction
from tests.enrichment.churn.conftest import store

JAN, FEB = dt.date(2025, 1, 1), dt.date(2025, 2, 1)
BILLING_PROBLEM = AccountFacts(failed_invoices_90d=1, overdue_invoices=1)


def _pair(cid: int, *, fixed: bool, churned: bool) -> list[Snapshot]:
    return [
        Snapshot(cid, JAN, BILLING_PROBLEM, churned),
        Snapshot(cid, FEB, AccountFacts(overdue_invoices=0 if fixed else 1), None),
    ]


def _effects(rows):
    return {e["code"]: e for e in action_effects(rows)}


def test_effect_is_the_churn_rate_without_the_aim_minus_with_it():
    rows = []
    for i in range(40):  # billing fixed: 4 of 40 churned
        rows += _pair(i, fixed=True, churned=i < 4)
    for i in range(40, 70):  # not fixed: 12 of 30 churned
        rows += _pair(i, fixed=False, churned=i < 52)
    payment = _effects(rows)["update_payment_method"]
    assert (payment["reached"], payment["not_reached"]) == (40, 30)
    assert (payment["churn_if_reached"], payment["churn_if_not"]) == (4 / 40, round(12 / 30, 4))
    assert payment["effect"] == round(12 / 30 - 4 / 40, 4) and not payment["thin"]
    assert _effects(rows)["reengage_users"]["thin"]  # no login drop anywhere: nothing to say


def test_too_few_accounts_on_either_side_is_thin_evidence():
    rows = []
    for i in range(MIN_EVIDENCE - 1):
        rows += _pair(i, fixed=True, churned=False)
    for i in range(100, 200):
        rows += _pair(i, fixed=False, churned=True)
    payment = _effects(rows)["update_payment_method"]
    assert payment["thin"] and payment["effect"] is None
    assert payment["reached"] == MIN_EVIDENCE - 1


def test_accounts_gone_by_the_next_snapshot_are_not_counted():
    rows = [Snapshot(i, JAN, BILLING_PROBLEM, True) for i in range(50)]  # no February row: gone
    payment = _effects(rows)["update_payment_method"]
    assert (payment["reached"], payment["not_reached"]) == (0, 0)


def test_every_aim_is_reported():
    assert [e["code"] for e in action_effects([])] == [aim.code for aim in outcomes.AIMS]


def test_actions_with_an_observed_effect_come_first_within_their_priority(db, trained_on_signal):
    actions = (
        NextAction("review_urgent_tickets", "high", "a"),
        NextAction("update_payment_method", "high", "b"),
        NextAction("recover_satisfaction", "normal", "c"),
        NextAction("reengage_users", "normal", "d"),
        NextAction("propose_seat_expansion", "normal", "e"),
    )
    assert actions_ranked(actions) == actions  # no model: the rules' order
    effects = [
        {"code": "update_payment_method", "effect": 0.05},
        {"code": "reengage_users", "effect": 0.2},
        {"code": "recover_satisfaction", "effect": None},  # thin
        {"code": "review_urgent_tickets", "effect": -0.01},  # no benefit seen
    ]
    store(trained_on_signal, beats_rules=False, effects=effects)  # ranking does not depend on who serves churn risk
    churn_model_reload()
    assert [a.code for a in actions_ranked(actions)] == [
        "update_payment_method",
        "review_urgent_tickets",
        "reengage_users",
        "recover_satisfaction",
        "propose_seat_expansion",
    ]
