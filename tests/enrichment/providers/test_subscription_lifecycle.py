"""The account's lifecycle, end to end on PostgreSQL: factory-built customers
(canceled, expired trial, trial ending today, renewal date passed, no
subscription) through the subscription selector, the providers, the rules
and the service; the exact prompt block, JSON (``to_dict``), summary, flags
and actions, fresh and read back from the cache's JSON."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.selectors import subscriptions_current
from enrichment.context.customer_view import customer_prompt, customer_view
from enrichment.context.enriched import SCHEMA_VERSION, EnrichedContext
from enrichment.context.lazy import LazyEnrichedContext
from enrichment.engine.service import ContextEnrichmentService
from tests.billing.factories import PlanFactory, SubscriptionFactory
from tests.customers.factories import CustomerFactory
from tests.enrichment.conftest import add_events

pytestmark = pytest.mark.django_db


def today() -> dt.date:
    return timezone.now().date()


def enrich(customer) -> EnrichedContext:
    return ContextEnrichmentService(enable_caching=False).enrich_context(customer.external_id)


def assert_same_after_cache(ctx: EnrichedContext) -> None:
    """The cache's JSON (decoded eagerly or lazily) says exactly the same."""
    data = ctx.to_dict()
    lazy = LazyEnrichedContext(data, tier="l2", cache_hit=False)
    assert lazy.get_summary() == ctx.get_summary()
    assert lazy.to_prompt_context() == ctx.to_prompt_context()
    assert EnrichedContext.from_dict(data) == ctx.replace(cache_hit=False)


# --- canceled -------------------------------------------------------------------------------------


@pytest.fixture
def lapsed():
    """Canceled ten days ago after a premium subscription at $250.00 a month;
    an older starter subscription was canceled before that."""
    since = today() - dt.timedelta(days=400)
    customer = CustomerFactory(external_id="cust_lapsed", company_name="Lapsed Co", industry="Retail", customer_since=since)
    SubscriptionFactory(
        customer=customer, plan=PlanFactory(code="starter"), canceled=True, mrr=Decimal("30.00"),
        started_at=since, canceled_at=since + dt.timedelta(days=100),
    )  # fmt: skip
    SubscriptionFactory(
        customer=customer, plan=PlanFactory(code="premium"), canceled=True, seats_purchased=10, seats_used=8,
        mrr=Decimal("250.00"), started_at=since + dt.timedelta(days=100), canceled_at=today() - dt.timedelta(days=10),
        renewal_date=today() + dt.timedelta(days=20),  # left over from when it was live: never read as a renewal
    )  # fmt: skip
    return customer


CANCELED_PROMPT = """<customer_context>
As of: {as_of}
Company: Lapsed Co
Industry: Retail
Plan: PREMIUM
Lifecycle: canceled
MRR: $0.00 (canceled; last MRR $250.00)
Health Score: 34/100 (Critical)
Churn Risk: n/a (canceled)
Customer Since: {since} (400 days)

Recent Activity:
- Last login: none recorded
- Login frequency: 0 times (last 30 days)

Support History:
- Total conversations: 0
- Average CSAT: no ratings yet

Subscription:
- Seats: 8/10
- Renewal: none (canceled)
- Status: CANCELED

🚨 CRITICAL ISSUES:
- Canceled on {canceled}

Suggested actions:
- They canceled on {canceled}: before anything else, ask what made them leave and note the reason.
- Offer to reactivate their Premium plan where they left off; offer no discount without approval.
</customer_context>"""


def test_canceled_account_prompt(lapsed):
    ctx = enrich(lapsed)
    canceled = (today() - dt.timedelta(days=10)).isoformat()
    as_of = f"{ctx.enriched_at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"
    expected = CANCELED_PROMPT.format(since=lapsed.customer_since.isoformat(), canceled=canceled, as_of=as_of)
    assert ctx.to_prompt_context().splitlines() == expected.splitlines()


def test_canceled_account_json(lapsed):
    ctx = enrich(lapsed)
    canceled = (today() - dt.timedelta(days=10)).isoformat()
    data = ctx.to_dict()
    intel, sub, health = data["customer_intelligence"], data["subscription_details"], data["account_health"]
    assert data["schema_version"] == SCHEMA_VERSION == 6
    assert (intel["lifecycle"], intel["plan"], intel["mrr"], intel["last_mrr"], intel["canceled_at"]) == (
        "canceled", "premium", "0.00", "250.00", canceled,
    )  # fmt: skip
    assert (intel["churn_risk"], intel["churn_risk_level"]) == (None, "churned")
    assert (health["churn_risk"], health["churn_risk_level"]) == (None, "churned")
    assert health["churn_model"] == {"source": "canceled", "version": None, "factors": []}
    assert (health["health_score"], health["health_label"]) == (34, "Critical")
    assert (sub["status"], sub["mrr"], sub["last_mrr"], sub["canceled_at"]) == ("canceled", "0.00", "250.00", canceled)
    assert (sub["renewal_date"], sub["days_to_renewal"]) == (None, None)
    assert health["red_flags"] == [f"Canceled on {canceled}"]
    assert (health["yellow_flags"], health["green_flags"]) == ([], [])
    assert data["flags"] == [
        {
            "code": "canceled",
            "level": "red",
            "message": f"Canceled on {canceled}",
            "evidence": {"canceled_at": canceled, "last_mrr": "250.00", "plan": "premium"},
        }
    ]
    assert [(a["code"], a["priority"]) for a in data["next_actions"]] == [
        ("ask_cancellation_reason", "high"),
        ("offer_reactivation", "normal"),
    ]


def test_canceled_account_summary_and_cache(lapsed):
    ctx = enrich(lapsed)
    assert ctx.get_summary() == {
        "company_name": "Lapsed Co",
        "plan": "premium",
        "health_score": 34,
        "churn_risk": None,
        "churn_risk_level": "churned",
        "login_count_30d": 0,
        "open_tickets": 0,
        "days_to_renewal": None,
        "has_critical_issues": True,
        "has_opportunities": False,
        "cache_hit": False,
        "lifecycle": "canceled",
    }
    assert_same_after_cache(ctx)


def test_canceled_account_for_a_customer_facing_audience(lapsed):
    ctx = enrich(lapsed)
    data = customer_view(ctx)
    text = json.dumps(data)
    assert "last_mrr" not in text and "250.00" not in text and "churn" not in text
    assert data["lifecycle"] == "canceled"
    assert data["subscription"]["status"] == "canceled"
    assert data["subscription"]["canceled_at"] == ctx.subscription_details.canceled_at.isoformat()
    prompt = customer_prompt(ctx)
    assert "MRR" not in prompt
    assert "Churn Risk" not in prompt
    assert "$250.00" not in prompt
    assert "- Status: CANCELED" in prompt.split("\n")


def test_a_live_subscription_wins_over_a_canceled_one():
    customer = CustomerFactory()
    SubscriptionFactory(customer=customer, canceled=True, started_at=today() - dt.timedelta(days=5))
    SubscriptionFactory(customer=customer, started_at=today() - dt.timedelta(days=300), mrr=Decimal("99.00"))
    ctx = enrich(customer)
    assert ctx.customer_intelligence.lifecycle == "active"
    assert (ctx.customer_intelligence.mrr, ctx.customer_intelligence.last_mrr, ctx.customer_intelligence.canceled_at) == (
        Decimal("99.00"), None, None,
    )  # fmt: skip
    assert "canceled" not in {f.code for f in ctx.flags}


def test_subscriptions_current_is_one_query_for_many_customers(lapsed):
    live = SubscriptionFactory().customer
    trial = SubscriptionFactory(trialing=True).customer
    nothing = CustomerFactory()
    pks = [lapsed.pk, live.pk, trial.pk, nothing.pk]
    with CaptureQueriesContext(connection) as queries:
        rows = subscriptions_current(customer_pks=pks, today=today())
    assert len(queries) == 1
    assert rows[lapsed.pk]["status"] == "canceled"
    assert rows[lapsed.pk]["plan__code"] == "premium"  # the latest of its two canceled subscriptions
    assert rows[lapsed.pk]["canceled_at"] == today() - dt.timedelta(days=10)
    assert (rows[live.pk]["status"], rows[trial.pk]["status"]) == ("active", "trialing")
    assert nothing.pk not in rows


# --- trials ---------------------------------------------------------------------------------------


def trial_customer(external_id: str, *, ends_in: int):
    since = today() - dt.timedelta(days=20)
    customer = CustomerFactory(external_id=external_id, company_name="Trial Co", industry="Media", customer_since=since)
    SubscriptionFactory(
        customer=customer, plan=PlanFactory(code="professional"), trialing=True, seats_purchased=5, seats_used=3,
        started_at=since, trial_ends_at=today() + dt.timedelta(days=ends_in),
    )  # fmt: skip
    add_events(customer, logins_30d=6)
    return customer


def test_expired_trial_says_how_many_days_ago_it_ended():
    ctx = enrich(trial_customer("cust_trial_over", ends_in=-2))
    ended = (today() - dt.timedelta(days=2)).isoformat()
    prompt = ctx.to_prompt_context()
    lines = prompt.splitlines()
    assert lines[4:6] == ["Plan: PROFESSIONAL", "Lifecycle: trialing"]
    assert f"- Trial ended: {ended} (2 days ago)" in lines
    # the factory's trial renews on its end date: one line, never a second "Renewal" that could be read as another date
    assert not any(line.startswith(("- Renewal:", "- First renewal:")) for line in lines)
    assert "Trial ends" not in prompt
    assert "(0 days)" not in prompt
    assert lines[lines.index("🚨 CRITICAL ISSUES:") + 1] == "- Trial ended 2 days ago"
    assert (
        "- Their trial ended 2 days ago without converting: help them choose a plan to keep access; "
        "promise no trial extension without approval."
    ) in lines

    data = ctx.to_dict()
    sub = data["subscription_details"]
    assert (sub["status"], sub["is_trial"], sub["trial_ends_at"], sub["days_to_trial_end"]) == ("trialing", True, ended, -2)
    assert data["customer_intelligence"]["lifecycle"] == "trialing"
    flags = {f["code"]: f for f in data["flags"]}
    assert flags["trial_expired"] == {
        "code": "trial_expired",
        "level": "red",
        "message": "Trial ended 2 days ago",
        "evidence": {"days_since_trial_end": 2, "trial_ends_at": ended},
    }
    assert "trial_ending" not in flags
    assert "renewal_date_passed" not in flags  # a trial's end is said by trial_expired
    assert [a["code"] for a in data["next_actions"]] == ["convert_expired_trial"]

    summary = ctx.get_summary()
    assert (summary["lifecycle"], summary["has_critical_issues"], summary["days_to_renewal"]) == ("trialing", True, -2)
    assert isinstance(summary["churn_risk"], float)
    assert_same_after_cache(ctx)


def test_trial_ending_today_says_today():
    ctx = enrich(trial_customer("cust_trial_today", ends_in=0))
    ends = today().isoformat()
    lines = ctx.to_prompt_context().splitlines()
    assert f"- Trial ends: {ends} (today)" in lines
    assert not any(line.startswith(("- Renewal:", "- First renewal:")) for line in lines)  # renews on the trial's end
    assert "- Trial ends today - help them convert" in lines
    assert "- The trial ends today and usage is light: offer onboarding help or a short demo." in lines
    assert ctx.subscription_details.days_to_trial_end == 0
    assert "trial_expired" not in {f.code for f in ctx.flags}


# --- renewal in the past ---------------------------------------------------------------------------


def test_renewal_date_in_the_past_says_so():
    customer = CustomerFactory(external_id="cust_renewal_past", customer_since=today() - dt.timedelta(days=300))
    SubscriptionFactory(customer=customer, renewal_date=today() - dt.timedelta(days=3))
    add_events(customer, logins_30d=20, logins_prev=20)
    ctx = enrich(customer)
    passed = (today() - dt.timedelta(days=3)).isoformat()
    prompt = ctx.to_prompt_context()
    lines = prompt.splitlines()
    assert f"- Renewal: date passed 3 days ago ({passed})" in lines
    assert lines[lines.index("⚠️ WARNINGS:") + 1] == f"- Renewal date passed 3 days ago ({passed})"
    assert "Lifecycle:" not in prompt  # active: the seed's layout
    assert "Renewal: -" not in prompt and "Renewal: 3 days" not in prompt

    data = ctx.to_dict()
    assert (data["subscription_details"]["renewal_date"], data["subscription_details"]["days_to_renewal"]) == (passed, -3)
    flags = {f["code"]: f for f in data["flags"]}
    assert flags["renewal_date_passed"] == {
        "code": "renewal_date_passed",
        "level": "yellow",
        "message": f"Renewal date passed 3 days ago ({passed})",
        "evidence": {"days_since_renewal_date": 3, "renewal_date": passed},
    }
    assert "renewal_at_risk" not in flags
    summary = ctx.get_summary()
    assert (summary["lifecycle"], summary["days_to_renewal"]) == ("active", -3)
    assert_same_after_cache(ctx)


# --- no subscription ---------------------------------------------------------------------------------


def test_no_subscription_is_stated():
    customer = CustomerFactory(external_id="cust_no_sub", company_name="Prospect Co", customer_since=today() - dt.timedelta(days=5))
    ctx = enrich(customer)
    lines = ctx.to_prompt_context().splitlines()
    assert lines[4:7] == ["Plan: NONE", "Lifecycle: no_subscription", "MRR: $0.00"]
    assert lines[lines.index("Subscription:") + 1 :][:3] == [
        "- Seats: 0/0",
        "- Renewal: not scheduled",
        "- Status: NO SUBSCRIPTION",
    ]
    data = ctx.to_dict()
    intel = data["customer_intelligence"]
    assert (intel["lifecycle"], intel["plan"], intel["mrr"], intel["last_mrr"], intel["canceled_at"]) == (
        "no_subscription", "", "0.00", None, None,
    )  # fmt: skip
    assert data["subscription_details"]["status"] == "none"
    summary = ctx.get_summary()
    assert (summary["lifecycle"], summary["plan"], summary["days_to_renewal"]) == ("no_subscription", "", None)
    assert_same_after_cache(ctx)
