"""The context endpoints: JSON, prompt, summary, invalidate, lookup; their 400s and 404s."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer
from enrichment.context.enriched import SECTION_TYPES
from enrichment.engine.service import get_context_service
from tests.billing.factories import PlanFactory, SubscriptionFactory
from tests.customers.factories import CustomerFactory
from tests.enrichment.api.helpers import ACME, assert_error, client_for
from tests.support.factories import TicketFactory

pytestmark = pytest.mark.django_db

SUMMARY_KEYS = {
    "company_name",
    "plan",
    "health_score",
    "churn_risk",
    "churn_risk_level",
    "login_count_30d",
    "open_tickets",
    "days_to_renewal",
    "has_critical_issues",
    "has_opportunities",
    "cache_hit",
    "lifecycle",  # added after the seed's keys
}


def context_url(customer_id: str = ACME, suffix: str = "") -> str:
    return f"/api/v1/customers/{customer_id}/context/{suffix}"


# --- GET context -------------------------------------------------------------------------


def test_context_json_and_prompt(demo, api):
    response = api.get(context_url())
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert data["customer_id"] == ACME
    for section in (
        "customer_intelligence",
        "engagement_metrics",
        "support_history",
        "subscription_details",
        "account_health",
        "product_status",
    ):
        assert section in data
    intel = data["customer_intelligence"]
    assert intel["company_name"] == "Acme Corp"
    assert 0 <= intel["health_score"] <= 100 and 0 <= intel["churn_risk"] <= 1
    assert "mrr" in intel and "mrr" in data["subscription_details"]
    assert isinstance(data["health_breakdown"], list) and data["health_breakdown"]
    assert isinstance(data["flags"], list)
    for key in ("sources", "degraded", "enriched_at", "cache_hit", "enrichment_latency_ms"):
        assert key in data
    prompt = data["prompt"]
    assert prompt.startswith("<customer_context>\n") and prompt.endswith("</customer_context>")
    assert "Company: Acme Corp" in prompt and "MRR: $" in prompt and "Churn Risk:" in prompt
    assert response["X-RateLimit-Limit"] == "600"


def test_context_matches_the_service(demo, api):
    data = api.get(context_url()).json()
    expected = get_context_service().enrich_context(ACME).to_dict()
    assert data["customer_intelligence"] == expected["customer_intelligence"]
    assert data["health_breakdown"] == expected["health_breakdown"]


def test_second_request_is_a_cache_hit_and_refresh_recomputes(demo, api):
    api.get(context_url(), {"refresh": "true"})
    assert api.get(context_url()).json()["cache_hit"] is True
    refreshed = api.get(context_url(), {"refresh": "true"}).json()
    assert refreshed["cache_hit"] is False
    assert {s["tier"] for s in refreshed["sources"].values()} == {"computed"}


def test_sections_filter(demo, api):
    data = api.get(context_url(), {"sections": "customer_intelligence, support_history"}).json()
    present = set(data) & set(SECTION_TYPES)
    assert present == {"customer_intelligence", "support_history"}
    assert "health_breakdown" not in data and "flags" not in data
    assert set(data["sources"]) <= {"customer_intelligence", "support_history"}
    assert data["prompt"].startswith("<customer_context>")

    with_health = api.get(context_url(), {"sections": "account_health"}).json()
    assert set(with_health) & set(SECTION_TYPES) == {"account_health"}
    assert "health_breakdown" in with_health and "flags" in with_health


def test_unknown_section_lists_the_valid_ones(demo, api):
    error = assert_error(api.get(context_url(), {"sections": "customer_intelligence,secrets"}), 400, "invalid_parameter")
    assert "secrets" in error["message"]
    for name in SECTION_TYPES:
        assert name in error["message"]
    assert_error(api.get(context_url(), {"sections": ","}), 400, "invalid_parameter")


def test_max_chars_budget(demo, api):
    full = api.get(context_url()).json()["prompt"]
    short = api.get(context_url(), {"max_chars": 300}).json()["prompt"]
    assert len(short) < len(full)
    assert "Omitted to fit the size budget" in short


@pytest.mark.parametrize("value", ["199", "100001", "-5", "abc", "1e3", ""])
def test_max_chars_out_of_bounds(demo, api, value):
    error = assert_error(api.get(context_url(), {"max_chars": value}), 400, "invalid_parameter")
    assert "max_chars" in error["message"]


@pytest.mark.parametrize("value", ["maybe", "2", ""])
def test_bad_refresh_value(demo, api, value):
    assert_error(api.get(context_url(), {"refresh": value}), 400, "invalid_parameter")


def test_unknown_query_parameters_are_named(demo, api):
    error = assert_error(api.get(context_url(), {"refrsh": "true", "foo": "1"}), 400, "unknown_parameter")
    assert "refrsh" in error["message"] and "foo" in error["message"]
    assert error["details"]["unknown"] == ["foo", "refrsh"]
    assert "refresh" in error["details"]["allowed"]


def test_repeated_query_parameter(demo, api):
    assert_error(api.get(context_url() + "?refresh=true&refresh=false"), 400, "invalid_parameter")


def test_unknown_customer_is_404(demo, api):
    error = assert_error(api.get(context_url("customer_nope")), 404, "customer_not_found")
    assert "customer_nope" in error["message"]


@pytest.mark.parametrize(
    "customer_id",
    [
        "..%2Fetc",
        "../etc",
        "a" * 65,
        "caf%C3%A9",  # café
        "%E5%AE%A2%E6%88%B7",  # 客户
        "_leading_underscore",
        "has%20space",
        "semi%3Bcolon",
        "nul%00byte",
    ],
)
def test_malformed_customer_ids_are_400(demo, api, customer_id):
    for suffix in ("", "prompt/", "summary/"):
        assert_error(api.get(context_url(customer_id, suffix)), 400, "invalid_customer_id")
    assert_error(api.post(context_url(customer_id, "invalidate/")), 400, "invalid_customer_id")


def test_64_char_id_is_valid_but_unknown(demo, api):
    assert_error(api.get(context_url("a" * 64)), 404, "customer_not_found")


# --- prompt ----------------------------------------------------------------------------------


def test_prompt_is_plain_text(demo, api):
    response = api.get(context_url(suffix="prompt/"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    text = response.content.decode("utf-8")
    assert text.startswith("<customer_context>\n") and text.endswith("</customer_context>")
    assert "Company: Acme Corp" in text


def test_prompt_ignores_accept_header_and_errors_stay_json(demo, api):
    assert api.get(context_url(suffix="prompt/"), HTTP_ACCEPT="application/json")["Content-Type"].startswith("text/plain")
    assert_error(api.get(context_url("nobody", "prompt/"), HTTP_ACCEPT="text/plain"), 404, "customer_not_found")
    assert_error(api.get(context_url(suffix="prompt/"), {"max_chars": 5}), 400, "invalid_parameter")
    assert_error(api.get(context_url(suffix="prompt/"), {"sections": "x"}), 400, "unknown_parameter")


def test_prompt_budget(demo, api):
    text = api.get(context_url(suffix="prompt/"), {"max_chars": 250}).content.decode()
    assert "Omitted to fit the size budget" in text


# --- summary ---------------------------------------------------------------------------------


def test_summary_has_the_seed_keys_and_lifecycle(demo, api):
    response = api.get(context_url(suffix="summary/"))
    assert response.status_code == 200
    data = response.json()
    assert set(data) == SUMMARY_KEYS
    assert data["company_name"] == "Acme Corp"
    assert data["lifecycle"] == "active"


def test_summary_errors(demo, api):
    assert_error(api.get(context_url("ghost", "summary/")), 404, "customer_not_found")
    assert_error(api.get(context_url(suffix="summary/"), {"max_chars": 500}), 400, "unknown_parameter")


# --- invalidate ------------------------------------------------------------------------------


def test_invalidate_drops_the_cached_context(demo, api):
    before = api.get(context_url()).json()
    assert before["cache_hit"] is True  # computed by the seed, cached
    count = before["support_history"]["total_conversations"]
    # Inside the test transaction the on-commit invalidation never runs: the cached copy stays.
    TicketFactory(customer=Customer.objects.get(external_id=ACME))
    assert api.get(context_url()).json()["support_history"]["total_conversations"] == count
    response = api.post(context_url(suffix="invalidate/"))
    assert response.status_code == 204 and response.content == b""
    after = api.get(context_url()).json()
    assert after["cache_hit"] is False
    assert after["support_history"]["total_conversations"] == count + 1


def test_invalidate_errors(demo, api):
    assert_error(api.post(context_url("ghost", "invalidate/")), 404, "customer_not_found")
    assert_error(api.get(context_url(suffix="invalidate/")), 405, "method_not_allowed")
    assert_error(api.post(context_url(suffix="invalidate/") + "?now=1"), 400, "unknown_parameter")


# --- lookup by email or domain ---------------------------------------------------------------


@pytest.mark.parametrize(
    "params", [{"email": "jane@acme.com"}, {"email": "JANE@Acme.com"}, {"domain": "acme.com"}, {"domain": "www.acme.com"}]
)
def test_lookup(demo, api, params):
    response = api.get("/api/v1/context/", params)
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["customer_id"] == ACME and "prompt" in data


def test_lookup_takes_the_context_options(demo, api):
    data = api.get("/api/v1/context/", {"domain": "acme.com", "sections": "account_health", "max_chars": 300}).json()
    assert set(data) & set(SECTION_TYPES) == {"account_health"}


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({}, 400, "invalid_parameter"),
        ({"email": "jane@acme.com", "domain": "acme.com"}, 400, "invalid_parameter"),
        ({"email": "not-an-email"}, 400, "invalid_parameter"),
        ({"domain": "no spaces.com"}, 400, "invalid_parameter"),
        ({"domain": "x" * 300}, 400, "invalid_parameter"),
        ({"email": ""}, 400, "invalid_parameter"),
        ({"email": "nobody@nowhere.example"}, 404, "customer_not_found"),
        ({"domain": "nowhere.example"}, 404, "customer_not_found"),
        ({"customer": "customer_123"}, 400, "unknown_parameter"),
    ],
)
def test_lookup_errors(demo, api, params, status, code):
    assert_error(api.get("/api/v1/context/", params), status, code)


def test_reverse_names(demo):
    assert reverse("api:context", kwargs={"customer_id": ACME}) == context_url()
    assert reverse("api:context-prompt", kwargs={"customer_id": ACME}) == context_url(suffix="prompt/")


def test_cached_json_is_rendered_once_but_carries_each_requests_latency_and_tier(demo, api):
    first = api.get("/api/v1/customers/customer_123/context/?refresh=true").json()
    second = api.get("/api/v1/customers/customer_123/context/").json()
    third = api.get("/api/v1/customers/customer_123/context/").json()
    assert first["cache_hit"] is False and second["cache_hit"] is True
    assert {src["tier"] for src in second["sources"].values()} == {"l1"}
    per_request = ("enrichment_latency_ms", "context_id")
    assert {k: v for k, v in second.items() if k not in per_request} == {k: v for k, v in third.items() if k not in per_request}
    assert second["context_id"] != third["context_id"] and second["strategy"] == third["strategy"] == "default"
    assert isinstance(third["enrichment_latency_ms"], float)
    assert second["customer_intelligence"] == first["customer_intelligence"]


# --- lifecycle: a canceled account says the same in every answer ------------------------------


@pytest.fixture
def canceled_customer(db):
    today = timezone.now().date()
    customer = CustomerFactory(external_id="cust_gone", company_name="Gone Ltd", customer_since=today - dt.timedelta(days=400))
    SubscriptionFactory(
        customer=customer, plan=PlanFactory(code="premium"), canceled=True, mrr=Decimal("250.00"),
        canceled_at=today - dt.timedelta(days=10),
    )  # fmt: skip
    return customer, (today - dt.timedelta(days=10)).isoformat()


def test_canceled_account_in_context_prompt_and_summary(canceled_customer, api, cf_token):
    customer, canceled = canceled_customer
    data = api.get(context_url(customer.external_id)).json()
    intel = data["customer_intelligence"]
    assert (intel["lifecycle"], intel["mrr"], intel["last_mrr"], intel["canceled_at"]) == ("canceled", "0.00", "250.00", canceled)
    assert (intel["churn_risk"], intel["churn_risk_level"]) == (None, "churned")
    assert [f["message"] for f in data["flags"] if f["level"] == "red"] == [f"Canceled on {canceled}"]
    assert [a["code"] for a in data["next_actions"]] == ["ask_cancellation_reason", "offer_reactivation"]
    prompt = api.get(context_url(customer.external_id, "prompt/")).content.decode()
    assert prompt == data["prompt"]
    lines = prompt.splitlines()
    expected = ("Lifecycle: canceled", "MRR: $0.00 (canceled; last MRR $250.00)", "Churn Risk: n/a (canceled)")
    for line in (*expected, f"- Canceled on {canceled}"):
        assert line in lines
    summary = api.get(context_url(customer.external_id, "summary/")).json()
    assert (summary["lifecycle"], summary["churn_risk"], summary["churn_risk_level"]) == ("canceled", None, "churned")

    restricted = client_for(cf_token).get(context_url(customer.external_id)).json()
    assert restricted["lifecycle"] == "canceled" and restricted["subscription"]["canceled_at"] == canceled
    assert "250" not in json.dumps(restricted) and "mrr" not in json.dumps(restricted)
    assert "- Status: CANCELED" in restricted["prompt"].splitlines()
