"""Writes of the engine: cache invalidation and forced refreshes."""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from django.db import DatabaseError, transaction

from customers.changes import data_changes_record
from customers.selectors import customer_external_id_get
from enrichment.engine.service import get_context_service

logger = structlog.get_logger(__name__)


def context_invalidate(*, customer_id: str) -> bool:
    """Drop a customer's cached context (L2 and this process's L1); every
    other process drops its L1 copy within ``CONTEXT_L1_TTL`` seconds.

    Returns True when done now. When Redis cannot be reached (down, stalled
    past ``REDIS_SOCKET_TIMEOUT``), the invalidation is recorded in the
    database's change log instead (:func:`customers.changes.data_changes_record`)
    and False is returned: the change listener and beat's backstop apply it as
    soon as Redis answers, so it is never lost. Raises ``DatabaseError`` when
    it could be neither done nor recorded."""
    if get_context_service().invalidate_cache(customer_id):
        return True
    data_changes_record(external_ids=[customer_id], source="invalidate")
    logger.warning("context_invalidation_recorded", customer_id=customer_id)
    return False


def context_invalidate_on_commit(*, customer_pk: int | None = None, customer_id: str | None = None) -> None:
    """Invalidate after the current transaction commits (immediately outside one),
    so no reader can cache the old data again in between."""
    if customer_id is None:
        if customer_pk is None:
            return
        customer_id = customer_external_id_get(pk=customer_pk)
        if customer_id is None:
            return
    transaction.on_commit(lambda: _invalidate_after_commit(customer_id))


def _invalidate_after_commit(customer_id: str) -> None:
    """After a write has committed: never fail the writer. When neither the
    cache nor the change log can be written, the triggers' own change rows
    (for the captured tables) still carry the change."""
    try:
        context_invalidate(customer_id=customer_id)
    except DatabaseError as exc:
        logger.error("context_invalidation_lost", customer_id=customer_id, error=type(exc).__name__)


def contexts_refresh(*, customer_ids: Sequence[str]) -> int:
    """Recompute and cache these customers' contexts, a chunk at a time (each
    provider runs once per chunk); returns how many were refreshed. Unknown or
    malformed ids are skipped: one bad id never stops the rest. Raises
    :class:`~enrichment.context.exceptions.ContextUnavailable` when the
    database cannot be reached (the Celery task retries)."""
    ids = list(customer_ids)
    refreshed = get_context_service().refresh_many(ids) if ids else 0
    if refreshed < len(set(ids)):
        logger.warning("context_refresh_skipped", requested=len(set(ids)), refreshed=refreshed)
    return refreshed
