"""Who a context is for: the audiences an API token (or any other caller) may have."""

from __future__ import annotations

from django.db import models


class TokenScope(models.TextChoices):
    FULL = "full", "Full (support staff tools)"
    CUSTOMER_FACING = "customer_facing", "Customer-facing (no revenue, churn risk or health breakdown)"
