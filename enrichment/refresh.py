"""Force-refresh customer contexts through the context service.

Every refresh goes through :func:`get_context_service`, so it recomputes the
context, stores it in both cache tiers and writes the customer's
:class:`~enrichment.models.CustomerHealth` row, exactly like an API request
with ``force_refresh``.
"""

from __future__ import annotations

import structlog

from enrichment.exceptions import ContextEnrichmentError
from enrichment.service import get_context_service

logger = structlog.get_logger(__name__)


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
