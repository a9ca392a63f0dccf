"""Writes of the engine: cache invalidation and forced refreshes."""

from __future__ import annotations

import structlog
from django.db import transaction

from customers.models import Customer
from enrichment.context.exceptions import ContextEnrichmentError
from enrichment.engine.service import get_context_service

logger = structlog.get_logger(__name__)


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


def contexts_refresh(*, customer_ids: list[str]) -> int:
    """Recompute the context of each external id; return how many succeeded.

    An unknown or malformed id, or a customer whose lookup fails, is logged and
    skipped: one bad id never stops the rest of the batch.
    """
    service = get_context_service()
    refreshed = 0
    for customer_id in customer_ids:
        try:
            service.enrich_context(customer_id, force_refresh=True)
        except ContextEnrichmentError as exc:
            logger.warning("context_refresh_failed", customer_id=customer_id, error=type(exc).__name__)
            continue
        refreshed += 1
    return refreshed
