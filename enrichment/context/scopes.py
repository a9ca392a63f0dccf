"""Who a context is for: the audiences an API token (or any other caller) may have."""

from __future__ import annotations

from django.db import models


class TokenScope(models.TextChoices):
    FULL = "full", "Full (support staff tools)"
    CUSTOMER_FACING = "customer_facing", "Customer-facing (only facts that may be said to the customer)"


def is_restricted(scope: str) -> bool:
    """Whether a scope sees the customer-facing view
    (:mod:`enrichment.context.customer_view`) rather than the whole context."""
    return scope != TokenScope.FULL
