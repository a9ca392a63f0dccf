"""Fixtures for the API tests: demo data, tokens and authenticated clients."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from enrichment.api.tokens import api_token_create, reset_token_cache
from enrichment.context.scopes import TokenScope
from tests.enrichment.api.helpers import client_for


@pytest.fixture(autouse=True)
def _fresh_token_cache():
    reset_token_cache()
    yield
    reset_token_cache()


@pytest.fixture
def demo(db):
    """The demo data set: customer_123 (Acme Corp, jane@acme.com, acme.com) and friends."""
    call_command("seed_demo", customers=2, stdout=StringIO())


@pytest.fixture
def make_token(db):
    made = iter(range(1, 1_000_000))

    def make(scope: str = TokenScope.FULL, name: str | None = None) -> str:
        return api_token_create(name=name or f"test-agent-{next(made)}", scope=scope)[1]

    return make


@pytest.fixture
def full_token(make_token) -> str:
    return make_token(TokenScope.FULL)


@pytest.fixture
def cf_token(make_token) -> str:
    return make_token(TokenScope.CUSTOMER_FACING, name="customer-bot")


@pytest.fixture
def api(full_token) -> APIClient:
    return client_for(full_token)


@pytest.fixture
def cf_api(cf_token) -> APIClient:
    return client_for(cf_token)
