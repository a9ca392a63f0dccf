"""The learned churn risk in contexts: from memory, explained, no extra query."""

from __future__ import annotations

import json
import math
import time

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enrichment.churn import serving
from enrichment.churn.facts import facts_from_sections
from enrichment.churn.features import vectorize
from enrichment.churn.models import ChurnModel
from enrichment.churn.serving import churn_model_reload
from enrichment.context.customer_view import customer_prompt, customer_view
from enrichment.context.sections import ChurnModelInfo
from enrichment.engine.service import ContextEnrichmentService
from tests.billing.factories import SubscriptionFactory
from tests.customers.factories import CustomerFactory
from tests.enrichment.churn.conftest import store


def _sections(ctx):
    return {key: ctx.section(key) for key in ("customer_intelligence", "engagement_metrics", "support_history", "subscription_details")}


def test_the_cold_path_query_count_is_unchanged_with_a_model_serving(acme, uncached_service, trained_on_signal):
    uncached_service.enrich_context("customer_123")  # compile the prepared statements first
    with CaptureQueriesContext(connection) as with_rules:
        by_rules = uncached_service.enrich_context("customer_123")
    store(trained_on_signal, beats_rules=True)
    churn_model_reload()
    with CaptureQueriesContext(connection) as with_model:
        by_model = uncached_service.enrich_context("customer_123")
    assert by_rules.account_health.churn_model == ChurnModelInfo(source="rules")
    assert by_model.account_health.churn_model.source == "model"
    assert len(with_model.captured_queries) == len(with_rules.captured_queries)


def test_a_serving_model_gives_the_calibrated_probability_and_its_top_factors(acme, uncached_service, serving_model):
    ctx = uncached_service.enrich_context("customer_123")
    info = ctx.account_health.churn_model
    assert (info.source, info.version) == ("model", serving_model.version)
    p = serving_model.params
    x = vectorize(facts_from_sections(_sections(ctx)), p["plans"])
    parts = [w * (v - m) / s for w, v, m, s in zip(p["coef"], x, p["mean"], p["scale"], strict=True)]
    expected = 1 / (1 + math.exp(-(p["intercept"] + sum(parts))))
    assert ctx.customer_intelligence.churn_risk == ctx.account_health.churn_risk == round(expected, 3)
    ranked = sorted(zip(serving_model.features, parts, strict=True), key=lambda item: -abs(item[1]))[:3]
    assert [(f.feature, f.contribution) for f in info.factors] == [(name, round(c, 3)) for name, c in ranked]
    for factor in info.factors:
        assert factor.description.endswith("raises the risk" if factor.contribution > 0 else "lowers the risk")
    prompt = ctx.to_prompt_context()
    assert f"Churn Model: v{serving_model.version} (learned from this account base; top factors: {info.factors[0].description}" in prompt
    assert ctx.to_dict()["account_health"]["churn_model"]["source"] == "model"


def test_a_model_that_did_not_beat_the_rules_leaves_them_serving(acme, uncached_service, trained_on_signal):
    store(trained_on_signal, beats_rules=False)
    assert churn_model_reload() is not None
    ctx = uncached_service.enrich_context("customer_123")
    assert ctx.account_health.churn_model == ChurnModelInfo(source="rules")
    assert "Churn Model:" not in ctx.to_prompt_context()
    assert ctx.to_dict()["account_health"]["churn_model"] == {"source": "rules", "version": None, "factors": []}


def test_canceled_accounts_keep_a_null_churn_risk_and_no_subscription_is_left_to_the_rules(db, uncached_service, serving_model):
    lapsed = CustomerFactory(external_id="cust_gone")
    SubscriptionFactory(customer=lapsed, canceled=True)
    CustomerFactory(external_id="cust_none")
    gone, none = uncached_service.enrich_context("cust_gone"), uncached_service.enrich_context("cust_none")
    assert (gone.customer_intelligence.churn_risk, gone.account_health.churn_model.source) == (None, "canceled")
    assert none.account_health.churn_model == ChurnModelInfo(source="rules")
    assert none.account_health.churn_risk is not None


def test_a_cached_context_recomputes_its_health_when_the_served_model_changes(acme, trained_on_signal):
    service = ContextEnrichmentService(enable_caching=True, redis_url=settings.REDIS_URL, l1_max_entries=0)
    service.invalidate_cache("customer_123")
    first = service.enrich_context("customer_123")
    assert first.account_health.churn_model.source == "rules"
    assert service.enrich_context("customer_123").cache_hit
    model = store(trained_on_signal, beats_rules=True)
    churn_model_reload()
    again = service.enrich_context("customer_123")
    assert (again.account_health.churn_model.source, again.account_health.churn_model.version) == ("model", model.version)
    service.invalidate_cache("customer_123")


def test_the_model_is_read_once_per_process_then_served_from_memory(serving_model, settings):
    settings.CHURN_MODEL_REFRESH_SECONDS = 3600  # a settings change drops the held model
    with CaptureQueriesContext(connection) as first:
        held = serving.serving_model()
    with CaptureQueriesContext(connection) as later:
        for _ in range(100):
            assert serving.serving_model() is held
    assert held is not None and held.version == serving_model.version
    assert len(first.captured_queries) == 1
    assert not later.captured_queries


def test_with_reloads_off_nothing_is_read_until_told(serving_model):
    assert settings.CHURN_MODEL_REFRESH_SECONDS == 0
    serving.churn_model_forget()
    with CaptureQueriesContext(connection) as queries:
        assert serving.serving_model() is None
        assert serving.serving_version() == "rules"
    assert not queries.captured_queries
    assert churn_model_reload().version == serving_model.version
    assert serving.serving_version() == f"model:{serving_model.version}"


def test_a_customer_facing_audience_never_sees_the_churn_model(acme, uncached_service, serving_model):
    ctx = uncached_service.enrich_context("customer_123")
    assert ctx.account_health.churn_model.source == "model"
    assert "churn" not in json.dumps(customer_view(ctx))  # the allowlist copies nothing of it
    prompt = customer_prompt(ctx)
    assert "Churn Model:" not in prompt and "Churn Risk:" not in prompt
    assert "churn_model" in ctx.to_dict()["account_health"]


@pytest.mark.django_db(transaction=True)
def test_other_processes_pick_up_a_new_model_in_the_background(settings, trained_on_signal):
    settings.CHURN_MODEL_REFRESH_SECONDS = 0.05
    first = store(trained_on_signal, beats_rules=True)
    assert serving.serving_model().version == first.version  # the first read, on first use
    ChurnModel.objects.filter(version=first.version).update(active=False)
    second = store(trained_on_signal, beats_rules=True)  # as another process's training would
    time.sleep(0.06)
    assert serving.serving_model().version == first.version  # a reload starts; this call is not kept waiting
    deadline = time.monotonic() + 5
    while serving.serving_model().version != second.version and time.monotonic() < deadline:
        time.sleep(0.02)
    assert serving.serving_version() == f"model:{second.version}"


def test_levels_are_read_against_the_account_base_own_cancellation_rate():
    model = serving.ServingModel(
        version=1, features=(), coef=(), intercept=0.0, mean=(), scale=(), plans=(), serves=True, effects={}, base_rate=0.09
    )
    assert [model.level(p) for p in (0.05, 0.11, 0.12, 0.17, 0.18, 0.25, 0.31, 0.65)] == [
        "low", "low", "medium", "medium", "high", "high", "high", "high",
    ]  # fmt: skip
    without = serving.ServingModel(
        version=1, features=(), coef=(), intercept=0.0, mean=(), scale=(), plans=(), serves=True, effects={}
    )
    assert [without.level(p) for p in (0.2, 0.35, 0.7)] == ["low", "medium", "high"]  # the rules' absolute levels
