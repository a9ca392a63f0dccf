"""The demo's churn history: cancellations follow the known pattern, and a fresh seed trains a model that beats the rules."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from billing.models import Subscription
from customers.models import Customer
from enrichment.churn.models import ChurnModel
from enrichment.churn.serving import churn_model_forget
from enrichment.demo.churn_history import HISTORY_PREFIX, churn_probability
from enrichment.engine.service import get_context_service


@pytest.fixture(autouse=True)
def no_model_held():
    churn_model_forget()
    yield
    churn_model_forget()


def test_the_pattern_raises_churn_for_trouble_and_starter_and_lowers_it_for_annual():
    calm = churn_probability(trouble=False, starter=False, annual=False, failed_invoice=False, noise=0.0)
    assert churn_probability(trouble=True, starter=False, annual=False, failed_invoice=False, noise=0.0) > 10 * calm
    assert churn_probability(trouble=False, starter=True, annual=False, failed_invoice=False, noise=0.0) > calm
    assert churn_probability(trouble=False, starter=False, annual=True, failed_invoice=False, noise=0.0) < calm


@pytest.mark.django_db
def test_a_fresh_seed_trains_a_model_that_beats_the_rules_and_serves(settings, django_capture_on_commit_callbacks):
    settings.DEMO_CHURN_HISTORY_ACCOUNTS = 400
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):  # activation loads the model once committed
        call_command("seed_demo", customers=0, stdout=out)
    model = ChurnModel.objects.get(active=True)
    assert model.beats_rules, model.metrics
    assert model.metrics["model"]["roc_auc"] > model.metrics["rules"]["roc_auc"] + 0.05
    assert f"churn model: v{model.version}: holdout ROC AUC {model.metrics['model']['roc_auc']}" in out.getvalue()
    assert "serves churn risk" in out.getvalue()
    assert Customer.objects.filter(external_id__startswith=HISTORY_PREFIX).count() == 400
    assert Subscription.objects.filter(customer__external_id__startswith=HISTORY_PREFIX, status="canceled").exists()
    ctx = get_context_service().enrich_context("customer_123")
    assert (ctx.account_health.churn_model.source, ctx.account_health.churn_model.version) == ("model", model.version)
