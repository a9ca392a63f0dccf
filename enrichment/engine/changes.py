"""Invalidation from any writer: act on the changes the database recorded.

Triggers on every table a context is built from write a row per changed
customer to the database's change log and, on PostgreSQL, ``NOTIFY``
(:mod:`customers.triggers`). :func:`context_changes_apply` reads a batch of
those rows, invalidates the customers' contexts (L2 and this process's L1)
and deletes the rows, all in one transaction: when the cache cannot be
written, the transaction rolls back and the rows wait for the next attempt,
so an invalidation is never lost.

:class:`ChangeListener` runs it whenever a notification arrives (PostgreSQL)
and every ``CONTEXT_CHANGES_POLL_SECONDS`` in any case (SQLite, a missed
notification, the listener's own reconnects). Run it as its own process
(``manage.py context_changes_listen``, the ``changes`` line of the Procfile);
the embedded default runs it in a thread of the web process. Beat also runs
:func:`context_changes_apply` every minute as a backstop.
"""

from __future__ import annotations

import contextlib
import threading

import psycopg
import structlog
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, transaction

from customers.changes import CHANNEL, data_changes_claim, data_changes_delete
from enrichment.engine.service import get_context_service
from enrichment.engine.tiers import L2Unavailable

logger = structlog.get_logger(__name__)

BATCH = 5000


def context_changes_apply(*, limit: int = BATCH) -> int:
    """Invalidate the contexts of every customer whose data changed, whoever
    changed it, until no change is pending; returns how many customers were
    invalidated. Raises :class:`~enrichment.engine.tiers.L2Unavailable` (the
    changes stay recorded) when the cache cannot be written."""
    total = 0
    while True:
        with transaction.atomic():
            rows = data_changes_claim(limit=limit)
            if not rows:
                return total
            customer_ids = sorted({external_id for _pk, external_id in rows})
            get_context_service().invalidate_many(customer_ids)
            data_changes_delete(ids=[pk for pk, _external_id in rows])
        total += len(customer_ids)
        logger.debug("context_changes_applied", customers=len(customer_ids), rows=len(rows))
        if len(rows) < limit:
            return total


class ChangeListener:
    """Applies database changes as they are committed: wakes on ``NOTIFY``
    (PostgreSQL) or every ``poll_seconds``; survives database and cache
    outages (logs once, retries)."""

    def __init__(self, *, poll_seconds: float | None = None):
        self.poll_seconds = poll_seconds if poll_seconds is not None else settings.CONTEXT_CHANGES_POLL_SECONDS
        self.stop_event = threading.Event()
        self._listen: psycopg.Connection | None = None
        self._failing = False

    def run(self) -> None:
        logger.info("context_changes_listening", vendor=connection.vendor, poll_seconds=self.poll_seconds)
        try:
            while not self.stop_event.is_set():
                self._apply()
                self._wait()
        finally:
            self._close()
            close_old_connections()

    def stop(self) -> None:
        self.stop_event.set()

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="context-changes", daemon=True)
        thread.start()
        return thread

    def _apply(self) -> None:
        try:
            applied = context_changes_apply()
        except (DatabaseError, L2Unavailable) as exc:
            if not self._failing:
                logger.warning("context_changes_failing", error=type(exc).__name__)
            self._failing = True
            connection.close()
            return
        if self._failing:
            logger.info("context_changes_recovered")
        self._failing = False
        if applied:
            logger.info("context_changes_applied", customers=applied)

    def _wait(self) -> None:
        if connection.vendor != "postgresql":
            self.stop_event.wait(self.poll_seconds)
            return
        try:
            listen = self._listen or self._connect()
            for _notify in listen.notifies(timeout=self.poll_seconds, stop_after=1):
                pass
        except psycopg.Error:
            self._close()
            self.stop_event.wait(self.poll_seconds)

    def _connect(self) -> psycopg.Connection:
        params = connection.get_connection_params()
        conninfo = {key: params[key] for key in ("dbname", "user", "password", "host", "port", "sslmode", "sslrootcert") if params.get(key)}
        listen = psycopg.connect(**conninfo, autocommit=True, connect_timeout=5)
        listen.execute(f"LISTEN {CHANNEL}")
        self._listen = listen
        return listen

    def _close(self) -> None:
        if self._listen is not None:
            with contextlib.suppress(psycopg.Error):
                self._listen.close()
            self._listen = None
