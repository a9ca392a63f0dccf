"""Writes for the enrichment app: cache invalidation."""

from __future__ import annotations

from django.db import transaction

from customers.models import Customer
from enrichment.service import get_context_service


def context_invalidate(*, customer_id: str) -> None:
    """Drop a customer's cached context now (L2 and this process's L1); every
    other process drops its L1 copy within ``CONTEXT_L1_TTL`` seconds."""
    get_context_service().invalidate_cache(customer_id)


def context_invalidate_on_commit(*, customer_pk: int | None = None, customer_id: str | None = None) -> None:
    """Invalidate after the current transaction commits (immediately outside one),
    so no reader can cache the old data again in between."""
    if customer_id is None:
        if customer_pk is None:
            return
        customer_id = Customer.objects.filter(pk=customer_pk).values_list("external_id", flat=True).first()
        if customer_id is None:
            return
    transaction.on_commit(lambda: context_invalidate(customer_id=customer_id))
