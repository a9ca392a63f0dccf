"""A canceled account's stored health and changes: no churn probability
(null in ``CustomerHealth``, ``HealthDaily`` and the snapshot), and the
change from a live account to a churned one reads as such."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from enrichment.engine.service import ContextEnrichmentService
from enrichment.history.models import ContextSnapshot, CustomerHealth, HealthDaily
from enrichment.history.services import health_daily_snapshot
from enrichment.history.snapshots import describe, diff
from tests.billing.factories import SubscriptionFactory
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_canceled_account_stores_a_null_churn_risk(settings):
    settings.ENRICHMENT_HEALTH_WRITES = "inline"
    today = timezone.now().date()
    customer = CustomerFactory(customer_since=today - dt.timedelta(days=200))
    SubscriptionFactory(customer=customer, canceled=True)
    ContextEnrichmentService(enable_caching=False).enrich_context(customer.external_id)
    row = CustomerHealth.objects.get(customer=customer)
    assert (row.churn_risk, row.churn_risk_level, row.flag_codes, str(row.mrr)) == (None, "churned", ["canceled"], "0.00")
    assert ContextSnapshot.objects.get(customer=customer).data["churn"] is None
    health_daily_snapshot(day=today)
    assert HealthDaily.objects.get(customer=customer, day=today).churn_risk is None


def test_the_change_to_churned_reads_as_such():
    items = diff({"churn": 0.45, "status": "active"}, {"churn": None, "status": "canceled"})
    churn = next(i for i in items if i["kind"] == "churn_risk")
    assert (churn["from"], churn["to"], churn["delta"]) == (0.45, None, None)
    assert describe(churn) == "Churn risk 45% → n/a (churned)"
