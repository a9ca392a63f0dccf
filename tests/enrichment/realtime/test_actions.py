"""Suggested next actions: flag combinations to stable codes, in the JSON and
the prompt; none for a healthy account like customer_123."""

from __future__ import annotations

import pytest

from enrichment.context.prompt import render_prompt
from enrichment.context.sections import (
    AccountHealth,
    CustomerIntelligence,
    Flag,
    IncidentBrief,
    NextAction,
    ProductStatus,
    SubscriptionDetails,
)
from enrichment.rules import actions as actions_module
from enrichment.rules.actions import ACTION_RULES, suggest_actions


def sections(*codes: str, health: int = 75, days_to_renewal: int | None = 200, days_to_trial_end: int | None = None, incident=None):
    flags = tuple(Flag(code, "red", code) for code in codes)
    status = ProductStatus()
    if incident:
        status = ProductStatus(active_incidents=(IncidentBrief(incident, "major", "investigating", None, True),))
    return {
        "account_health": AccountHealth(health_score=health, flags=flags),
        "customer_intelligence": CustomerIntelligence(account_owner="Dana Whitfield"),
        "subscription_details": SubscriptionDetails(days_to_renewal=days_to_renewal, days_to_trial_end=days_to_trial_end),
        "product_status": status,
    }


def codes(found: tuple[NextAction, ...]) -> list[str]:
    return [a.code for a in found]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (sections("high_engagement", "high_csat"), []),
        (sections(health=45, days_to_renewal=10), ["escalate_renewal_risk"]),
        (sections(health=45, days_to_renewal=15), []),  # outside 14 days
        (sections(health=60, days_to_renewal=10), []),  # not red health
        (sections("payment_failed"), ["update_payment_method"]),
        (sections("trial_ending", "high_engagement", days_to_trial_end=3), ["offer_conversion_call"]),
        (sections("trial_ending", days_to_trial_end=3), ["offer_onboarding_help"]),
        (sections("urgent_tickets_open"), ["review_urgent_tickets"]),
        (sections("low_csat"), ["recover_satisfaction"]),
        (sections("inactive"), ["reengage_users"]),
        (sections("seats_nearly_full", "high_engagement"), ["propose_seat_expansion"]),
        (sections("incident_affecting_customer", incident="API down"), ["acknowledge_incident"]),
        (
            sections("low_csat", "payment_failed", "login_drop", "urgent_tickets_open", health=30, days_to_renewal=7),
            ["escalate_renewal_risk", "update_payment_method", "review_urgent_tickets", "recover_satisfaction", "reengage_users"],
        ),
    ],
)
def test_rules_turn_flag_combinations_into_stable_codes(given, expected):
    assert codes(suggest_actions(given)) == expected


def test_messages_carry_the_facts():
    (escalate,) = suggest_actions(sections(health=42, days_to_renewal=12))
    assert escalate.priority == "high"
    assert escalate.message == (
        "Escalate to the account owner (Dana Whitfield) before promising anything: renewal in 12 days with health 42/100. "
        "Offer no discount without approval."
    )
    (incident,) = suggest_actions(sections("incident_affecting_customer", incident="API down"))
    assert "(API down)" in incident.message and incident.because == ("incident_affecting_customer",)


def test_every_rule_is_documented_in_the_table():
    doc = actions_module.__doc__
    for code in ACTION_RULES:
        assert f"\n{code} " in doc, code


def test_healthy_demo_account_gets_no_action_and_keeps_the_seed_layout(acme, uncached_service):
    ctx = uncached_service.enrich_context("customer_123")
    assert ctx.next_actions == ()
    assert "Suggested actions:" not in ctx.to_prompt_context()


def test_actions_in_json_and_prompt_after_the_flags(db, uncached_service):
    from tests.billing.factories import InvoiceFactory
    from tests.enrichment.realtime.conftest import make_customer

    customer = make_customer(external_id="late_payer")
    InvoiceFactory(customer=customer, status="failed")
    ctx = uncached_service.enrich_context("late_payer")
    assert "update_payment_method" in codes(ctx.next_actions)
    data = ctx.to_dict()
    assert data["next_actions"][0]["code"] == "update_payment_method"
    lines = render_prompt(ctx).splitlines()
    start = lines.index("Suggested actions:")
    assert lines.index("🚨 CRITICAL ISSUES:") < start
    assert lines[start + 1].startswith("- Point them to the billing portal")
    budget = render_prompt(ctx, max_chars=len("\n".join(lines)) - 1)
    assert "Suggested actions:" not in budget and "suggested actions" in budget.splitlines()[-2]
