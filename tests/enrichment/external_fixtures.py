"""Fixtures for the external-data tests: a real HTTP stand-in for the vendors
on 127.0.0.1 and the settings that point the clients at it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from enrichment.demo.fake_vendors import FakeVendorServer
from tests.billing.factories import PlanFactory, SubscriptionFactory
from tests.customers.factories import CustomerFactory

KEYS = {"CLEARBIT_API_KEY": "ck_test_key", "CRUNCHBASE_API_KEY": "cb_test_key", "NEWSAPI_KEY": "na_test_key"}


def point_settings_at(settings, url: str, **overrides) -> None:
    for name, value in KEYS.items():
        setattr(settings, name, value)
    for name in ("CLEARBIT_BASE_URL", "CRUNCHBASE_BASE_URL", "NEWSAPI_BASE_URL", "PEOPLEDATALABS_BASE_URL"):
        setattr(settings, name, url)
    fast = {
        "EXTERNAL_HTTP_CONNECT_TIMEOUT": 1.0,
        "EXTERNAL_HTTP_READ_TIMEOUT": 0.5,
        "EXTERNAL_RETRY_BASE_SECONDS": 0.02,
        "EXTERNAL_MAX_RETRIES": 2,
        "EXTERNAL_QUEUED_RETRY_SECONDS": 0.05,
        "EXTERNAL_EAGER_MAX_WAIT_SECONDS": 2.0,
        "EXTERNAL_CIRCUIT_FAILURES": 5,
        "EXTERNAL_CIRCUIT_COOLDOWN_SECONDS": 60.0,
    }
    fast.update(overrides)
    for name, value in fast.items():
        setattr(settings, name, value)


@pytest.fixture
def fake_vendors():
    with FakeVendorServer() as server:
        yield server


@pytest.fixture
def vendors_on(settings, fake_vendors):
    """All three main vendors configured against the stand-in."""
    point_settings_at(settings, fake_vendors.url)
    return fake_vendors


def make_customer(*, domain="acme.com", name="Acme Corp", mrr="250.00", plan="premium", external_id=None, **extra):
    kwargs = {"domain": domain, "company_name": name, **extra}
    if external_id:
        kwargs["external_id"] = external_id
    customer = CustomerFactory(**kwargs)
    SubscriptionFactory(
        customer=customer,
        plan=PlanFactory(code=plan),
        mrr=Decimal(mrr),
        renewal_date=dt.date.today() + dt.timedelta(days=200),
    )
    return customer
