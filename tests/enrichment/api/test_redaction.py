"""A customer-facing token never sees MRR, revenue, churn risk or the health breakdown."""

from __future__ import annotations

import pytest

from enrichment.context.redaction import PROMPT_HIDE, prompt_hide_for, redact_context, redact_summary
from enrichment.context.scopes import TokenScope
from enrichment.engine.service import get_context_service
from tests.enrichment.api.helpers import ACME, HIDDEN_JSON_KEYS, all_keys

pytestmark = pytest.mark.django_db

FORBIDDEN_PROMPT = ("MRR:", "Churn Risk:", "$")


def _assert_clean_prompt(text: str) -> None:
    for marker in FORBIDDEN_PROMPT:
        assert marker not in text, marker


@pytest.mark.parametrize("customer_id", [ACME, "customer_at_risk", "customer_trial"])
def test_context_json_walk(demo, cf_api, customer_id):
    data = cf_api.get(f"/api/v1/customers/{customer_id}/context/").json()
    assert data["customer_id"] == customer_id
    assert not all_keys(data) & HIDDEN_JSON_KEYS, all_keys(data) & HIDDEN_JSON_KEYS
    assert "health_score" in data["customer_intelligence"]  # health itself is still there
    _assert_clean_prompt(data["prompt"])


def test_full_token_sees_everything(demo, api):
    data = api.get(f"/api/v1/customers/{ACME}/context/").json()
    assert {"mrr", "churn_risk", "churn_risk_level", "health_breakdown"} <= all_keys(data)
    assert "MRR:" in data["prompt"] and "Churn Risk:" in data["prompt"]


def test_prompt_endpoint(demo, cf_api):
    text = cf_api.get(f"/api/v1/customers/{ACME}/context/prompt/").content.decode()
    assert text.startswith("<customer_context>") and "Company: Acme Corp" in text
    _assert_clean_prompt(text)
    _assert_clean_prompt(cf_api.get(f"/api/v1/customers/{ACME}/context/prompt/", {"max_chars": 300}).content.decode())


def test_summary(demo, cf_api):
    data = cf_api.get(f"/api/v1/customers/{ACME}/context/summary/").json()
    assert "churn_risk" not in data and "churn_risk_level" not in data
    assert data["company_name"] == "Acme Corp" and "health_score" in data


def test_lookup_and_batch(demo, cf_api):
    by_email = cf_api.get("/api/v1/context/", {"email": "jane@acme.com"}).json()
    assert not all_keys(by_email) & HIDDEN_JSON_KEYS
    _assert_clean_prompt(by_email["prompt"])
    batch = cf_api.post("/api/v1/contexts/batch/", {"customer_ids": [ACME, "customer_at_risk"]}, format="json").json()
    assert [r["status"] for r in batch["results"]] == ["ok", "ok"]
    assert not all_keys(batch) & HIDDEN_JSON_KEYS
    for item in batch["results"]:
        _assert_clean_prompt(item["context"]["prompt"])


def test_sections_cannot_bring_hidden_fields_back(demo, cf_api):
    data = cf_api.get(
        f"/api/v1/customers/{ACME}/context/", {"sections": "customer_intelligence,subscription_details,account_health"}
    ).json()
    assert not all_keys(data) & HIDDEN_JSON_KEYS


def test_pure_functions(demo):
    context = get_context_service().enrich_context(ACME)
    data = context.to_dict()
    data["flags"].append({"code": "x", "level": "red", "message": "m", "evidence": {"mrr": 5, "churn_risk": 0.9, "ok": 1}})
    cleaned = redact_context(data, scope=TokenScope.CUSTOMER_FACING)
    assert not all_keys(cleaned) & HIDDEN_JSON_KEYS
    assert cleaned["flags"][-1]["evidence"] == {"ok": 1}
    assert "mrr" in data["customer_intelligence"]  # the input is not modified
    assert redact_context(data, scope=TokenScope.FULL) is data
    assert set(redact_summary(context.get_summary(), scope=TokenScope.CUSTOMER_FACING)) == set(context.get_summary()) - {
        "churn_risk",
        "churn_risk_level",
    }
    assert prompt_hide_for(TokenScope.CUSTOMER_FACING) == PROMPT_HIDE == frozenset({"mrr", "revenue", "churn_risk", "health_breakdown"})
    _assert_clean_prompt(context.to_prompt_context(hide=PROMPT_HIDE))
