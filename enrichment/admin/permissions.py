"""Who may change contexts from the admin."""

from __future__ import annotations

from typing import Any


def can_refresh(user: Any) -> bool:
    """Refreshing or invalidating a context (or running the actions) changes
    data: superusers and users allowed to change customers only."""
    return bool(user.is_active and (user.is_superuser or user.has_perm("customers.change_customer")))
