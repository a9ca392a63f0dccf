"""Writing the latest health of computed contexts, off the request path.

Every computed context updates the customer's ``CustomerHealth`` row (and a
snapshot when it changed in substance) for the admin's list and the history.
That row is derived data, so a request need not wait for it:

- ``inline``: written in the request, one statement (SQLite, tests, or inside a
  transaction).
- ``deferred`` (the default on PostgreSQL): queued in the process and written
  by a background thread at most ``ENRICHMENT_HEALTH_FLUSH_SECONDS`` (1 s) later,
  all pending customers in one statement; the latest context of a customer wins.
  Pending rows are flushed when the process exits; a crash loses at most that
  interval of rows, which the next computation writes again.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Sequence

import structlog
from django.conf import settings
from django.db import DatabaseError, connection

from enrichment.context.enriched import EnrichedContext
from enrichment.history.services import customer_health_upsert

logger = structlog.get_logger(__name__)

MAX_PENDING = 500


def _write(rows: Sequence[tuple[int, EnrichedContext]]) -> None:
    try:
        customer_health_upsert(rows=list(rows))
    except DatabaseError as exc:  # the contexts are still served; the next computation writes again
        logger.warning("customer_health_write_failed", customers=len(rows), error=type(exc).__name__)
        if not connection.in_atomic_block:
            connection.close()


class DeferredHealthWriter:
    """Collects (customer pk, context) and writes them in batches from a thread."""

    def __init__(self, *, interval: float):
        self.interval = interval
        self._pending: dict[int, EnrichedContext] = {}
        self._lock = threading.Lock()
        # Held from taking the pending rows until they are committed: a flush
        # returns only when every row submitted before it is in the database,
        # even the ones the background thread took a moment earlier.
        self._writing = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def submit(self, customer_pk: int, context: EnrichedContext) -> None:
        self.submit_many([(customer_pk, context)])

    def submit_many(self, rows: Sequence[tuple[int, EnrichedContext]], *, now: bool = False) -> None:
        """Queue rows; with ``now`` (or once ``MAX_PENDING`` are queued) the
        thread writes them at once rather than at its next interval."""
        with self._lock:
            self._pending.update(rows)
            full = len(self._pending) >= MAX_PENDING
            if self._thread is None or not self._thread.is_alive():
                # Started lazily, so a forking server starts it in each worker.
                self._thread = threading.Thread(target=self._run, name="health-writer", daemon=True)
                self._thread.start()
        if full or now:
            self._wake.set()

    def flush(self) -> int:
        """Write what is pending; returns once every row submitted before the
        call is committed (waiting for a flush already in progress)."""
        with self._writing:
            with self._lock:
                rows = list(self._pending.items())
                self._pending.clear()
            if rows:
                _write(rows)
            return len(rows)

    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            if self.flush():
                connection.close()  # this thread's connection goes back to the pool between flushes


_WRITER: DeferredHealthWriter | None = None
_WRITER_LOCK = threading.Lock()


def _writer() -> DeferredHealthWriter:
    global _WRITER
    with _WRITER_LOCK:
        if _WRITER is None:
            _WRITER = DeferredHealthWriter(interval=float(getattr(settings, "ENRICHMENT_HEALTH_FLUSH_SECONDS", 1.0)))
            atexit.register(_WRITER.flush)
        return _WRITER


def deferred() -> bool:
    mode = getattr(settings, "ENRICHMENT_HEALTH_WRITES", "auto")
    if mode == "inline":
        return False
    return connection.vendor == "postgresql" and not connection.in_atomic_block


def health_record(*, customer_pk: int, context: EnrichedContext) -> None:
    """Record a computed context's health: queued (deferred) or now (inline)."""
    if deferred():
        _writer().submit(customer_pk, context)
    else:
        _write([(customer_pk, context)])


def health_record_many(*, rows: Sequence[tuple[int, EnrichedContext]], overlap: bool = False) -> None:
    """Record computed contexts' health: queued when deferred and the batch is
    small (a request), written now in one statement otherwise (a refresh).
    With ``overlap`` (a refresh of many chunks, which calls :func:`health_flush`
    when it is done) a deferred batch of any size is handed to the writer's
    thread at once, so the database writes it while the next chunk is computed."""
    if deferred() and (overlap or len(rows) < MAX_PENDING):
        _writer().submit_many(rows, now=overlap)
    elif rows:
        _write(rows)


def health_flush() -> int:
    """Write what is queued now and wait for a write in progress, so the
    health rows of every context computed before the call can be read
    (tests, shutdown hooks, the demo's history backfill); returns how many rows."""
    return _WRITER.flush() if _WRITER is not None else 0
