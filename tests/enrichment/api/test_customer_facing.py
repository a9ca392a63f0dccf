"""A customer-facing bot gets nothing it should not repeat: every endpoint,
with a ``customer_facing`` token, over the whole demo set, is searched for
every internal field and phrase (and for the internal strings each account's
full context actually has: its flags, suggested actions, owner, agents)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from customers.models import Contact, Customer
from enrichment.engine.service import get_context_service
from support.models import Ticket
from tests.enrichment.api.helpers import all_keys

pytestmark = pytest.mark.django_db

INTERNAL_KEYS = {
    "mrr", "last_mrr", "revenue", "arr", "health_score", "health_label", "health_breakdown", "breakdown",
    "churn_risk", "churn_risk_level", "churn_model", "flags", "red_flags", "yellow_flags", "green_flags", "next_actions",
    "account_owner", "agent_performance", "best_agents", "engagement_metrics", "login_count_30d", "logins_30d",
    "feature_adoption_score", "seat_utilization", "priority", "timeline", "baseline_at", "has_critical_issues",
    "has_opportunities", "customer_intelligence", "account_health", "sources", "degraded", "csat", "avg_csat",
    "last_login_at", "features_30d", "support_history", "current_activity",
}  # fmt: skip
INTERNAL_PHRASES = (
    "Health Score", "health score", "Churn", "churn", "MRR", "$", "Critical", "At Risk", "CRITICAL ISSUES", "WARNINGS",
    "OPPORTUNITIES", "Suggested actions", "Escalate", "escalate", "discount", "approval", "upsell", "referral",
    "seats in use", "underused", "CSAT", "Login frequency", "Last login", "urgent",
)  # fmt: skip


def internal_strings(customer_id: str) -> set[str]:
    """What this account's full context says that the customer must not hear."""
    context = get_context_service().enrich_context(customer_id)
    health = context.account_health
    found = {*health.red_flags, *health.yellow_flags, *health.green_flags, *(a.message for a in context.next_actions)}
    if context.customer_intelligence.account_owner:
        found.add(context.customer_intelligence.account_owner)
    found |= {agent.name for agent in context.agent_performance.best_agents if agent.name}
    return {text for text in found if text}


def check(payload: Any, forbidden: set[str], where: str) -> None:
    """``payload``: a JSON body or a text/plain block."""
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    if not isinstance(payload, str):
        leaked = all_keys(payload) & INTERNAL_KEYS
        assert not leaked, f"{where}: internal keys {sorted(leaked)}"
    for phrase in (*INTERNAL_PHRASES, *forbidden):
        assert phrase not in text, f"{where}: {phrase!r} in {text[:3000]}"
    assert not re.search(r"\b\d{1,3}/100\b", text), f"{where}: a score"


@pytest.fixture
def staff_names(demo):
    return {f"{u.first_name} {u.last_name}".strip() for u in get_user_model().objects.all()} - {""}


def test_every_endpoint_over_the_demo_set(demo, cf_api, staff_names):
    customers = list(Customer.objects.order_by("pk").values_list("external_id", flat=True))
    assert len(customers) >= 5
    for customer_id in customers:
        forbidden = internal_strings(customer_id) | staff_names
        base = f"/api/v1/customers/{customer_id}/context/"
        responses = {
            "context": cf_api.get(base),
            "context ?sections": cf_api.get(base, {"sections": "account_health,customer_intelligence"}),
            "context ?max_chars": cf_api.get(base, {"max_chars": 300}),
            "prompt": cf_api.get(base + "prompt/"),
            "prompt with changes": cf_api.get(base + "prompt/", {"include_changes": "true"}),
            "summary": cf_api.get(base + "summary/"),
            "changes since last contact": cf_api.get(base + "changes/", {"since_last_contact": "true"}),
            "changes since": cf_api.get(base + "changes/", {"since": "2020-01-01"}),
            "batch": cf_api.post("/api/v1/contexts/batch/", {"customer_ids": [customer_id]}, format="json"),
        }
        for email in Contact.objects.filter(customer__external_id=customer_id).values_list("email", flat=True)[:3]:
            responses[f"lookup {email}"] = cf_api.get("/api/v1/context/", {"email": email})
            responses[f"batch {email}"] = cf_api.post("/api/v1/contexts/batch/", {"emails": [email]}, format="json")
        domain = Customer.objects.get(external_id=customer_id).domain
        if domain:
            responses["lookup domain"] = cf_api.get("/api/v1/context/", {"domain": domain})
        for ticket_id in Ticket.objects.filter(customer__external_id=customer_id).values_list("pk", flat=True)[:3]:
            responses[f"ticket {ticket_id}"] = cf_api.get(f"/api/v1/tickets/{ticket_id}/context/")
            responses[f"ticket {ticket_id} prompt"] = cf_api.get(f"/api/v1/tickets/{ticket_id}/context/prompt/")
        for name, response in responses.items():
            assert response.status_code == 200, (customer_id, name, response.content[:300])
            body = response.content.decode() if response["Content-Type"].startswith("text/plain") else response.json()
            check(body, forbidden, f"{customer_id} {name}")


def test_errors_and_forbidden_endpoints_say_nothing_internal(demo, cf_api):
    for response in (
        cf_api.get("/api/v1/customers/nobody/context/"),
        cf_api.get("/api/v1/customers/customer_123/context/", {"agent": "admin"}),
        cf_api.get("/api/v1/customers/", {"search": "acme"}),
        cf_api.post("/api/v1/events/", {"events": []}, format="json"),
        cf_api.get("/api/v1/tickets/0/context/"),
        cf_api.get("/api/v1/context/", {"email": "nobody@acme.com"}),
    ):
        assert response.status_code in (400, 403, 404), response.status_code
        check(response.json(), set(), "error")


def test_the_customer_facing_view_says_what_may_be_said(demo, cf_api):
    data = cf_api.get("/api/v1/context/", {"email": "jane@acme.com"}).json()
    assert data["view"] == "customer_facing"
    assert (data["company_name"], data["plan"], data["subscription"]["seats_purchased"]) == ("Acme Corp", "premium", 10)
    assert data["subscription"]["renewal_date"] and data["open_tickets"][0]["subject"] == "How do I export a project timeline to PDF?"
    assert data["requester"]["name"] == "Jane Doe"
    lines = data["prompt"].splitlines()
    assert "Audience: customer-facing (every fact below may be shared with the customer)" in lines
    assert "Plan: PREMIUM" in lines and "- Seats: 8 of 10 assigned" in lines
    assert any("How do I export a project timeline to PDF?" in line for line in lines)


def test_the_allowlist_holds_for_a_context_field_added_later(demo, cf_api, monkeypatch):
    """A new internal field needs no change to stay hidden: nothing is copied unless allowlisted."""
    from enrichment.context import enriched

    original = enriched.EnrichedContext.to_dict

    def with_secret(self):
        return {**original(self), "internal_margin": "62% gross margin"}

    monkeypatch.setattr(enriched.EnrichedContext, "to_dict", with_secret)
    assert "margin" not in cf_api.get("/api/v1/customers/customer_123/context/").content.decode()
