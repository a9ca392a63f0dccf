"""Fixtures shared by the whole suite.

The suite runs against real PostgreSQL and Redis (see config/settings/test.py);
``tests/preflight.py`` stops the run at once, with a clear message, when either
cannot be reached.
"""

from __future__ import annotations

import pytest
from django.core.cache import caches

from tests.preflight import check_services


def pytest_configure(config):
    check_services()


@pytest.fixture(autouse=True)
def _clean_caches():
    """Every test starts with empty caches (Redis DB of the test settings and L1)."""
    for alias in ("default", "context"):
        caches[alias].clear()
    from enrichment.api.throttling import reset_throttle_state
    from enrichment.ops.l1 import reset_l1

    reset_l1()
    reset_throttle_state()
    yield
