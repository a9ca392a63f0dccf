"""Read replicas: a database router that sends reads to a healthy replica
named in ``DATABASE_REPLICA_URLS`` and everything else to the primary.

- **Writes** go to the primary (``default``), and so does every read after a
  write in the same request or task (read-after-write: the replica may not
  have the row yet) and every read inside a transaction on the primary.
- **Health.** Each process checks a replica at most every
  ``DATABASE_REPLICA_CHECK_SECONDS`` with its own short connection (1 s
  timeout, outside the pool): reachable, in recovery, and not lagging more
  than ``DATABASE_REPLICA_MAX_LAG_SECONDS`` behind (0 when it has replayed
  all it received). A replica that fails the check gets no reads until a
  later check passes; with none healthy, reads go to the primary.
- **A replica dying mid-request.** :func:`replica_blame` marks down the
  replica this thread read from; the reconnect policy (the API's retry
  middleware, the context service's retry) calls it, so the retry reads from
  the primary at once instead of waiting for the next check.

No replica configured: the router is not installed and nothing changes.
"""

from __future__ import annotations

import threading
import time
from contextvars import ContextVar
from dataclasses import dataclass

import psycopg
import structlog
from django.conf import settings
from django.db import connections

logger = structlog.get_logger(__name__)

PRIMARY = "default"
_PINNED: ContextVar[bool] = ContextVar("replica_pinned", default=False)
_LAST_READ: ContextVar[str | None] = ContextVar("replica_last_read", default=None)

LAG_SQL = (
    "SELECT pg_is_in_recovery(), CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0 "
    "ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END"
)


def replica_aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias.startswith("replica_")]


@dataclass
class _Health:
    healthy: bool = False
    checked_at: float = float("-inf")
    lag: float | None = None


_STATE: dict[str, _Health] = {}
_LOCK = threading.Lock()


def _probe(alias: str) -> tuple[bool, float | None]:
    config = settings.DATABASES[alias]
    try:
        with psycopg.connect(
            host=config["HOST"], port=config["PORT"] or None, dbname=config["NAME"], user=config["USER"],
            password=config["PASSWORD"] or None, connect_timeout=1, options="-c statement_timeout=1000",
        ) as probe:  # fmt: skip
            recovering, lag = probe.execute(LAG_SQL).fetchone()
    except psycopg.Error as exc:
        logger.warning("replica_unreachable", alias=alias, error=type(exc).__name__)
        return False, None
    lag = float(lag)
    healthy = bool(recovering) and lag <= settings.DATABASE_REPLICA_MAX_LAG_SECONDS
    if not healthy:
        logger.warning("replica_lagging" if recovering else "replica_not_in_recovery", alias=alias, lag_seconds=round(lag, 3))
    return healthy, lag


def replica_health(alias: str, *, now: float | None = None) -> _Health:
    """The replica's health, checked when older than ``DATABASE_REPLICA_CHECK_SECONDS``."""
    now = time.monotonic() if now is None else now
    state = _STATE.get(alias)
    if state is None or now - state.checked_at >= settings.DATABASE_REPLICA_CHECK_SECONDS:
        with _LOCK:
            state = _STATE.setdefault(alias, _Health())
            if now - state.checked_at >= settings.DATABASE_REPLICA_CHECK_SECONDS:
                state.checked_at = now  # one prober at a time; the others use the last verdict
                state.healthy, state.lag = _probe(alias)
    return state


def replica_blame() -> bool:
    """Mark down the replica this thread last read from (its connection just
    failed): reads go to the primary until a check passes. True if there was one."""
    alias = _LAST_READ.get()
    if alias is None or alias == PRIMARY:
        return False
    with _LOCK:
        state = _STATE.setdefault(alias, _Health())
        state.healthy, state.checked_at = False, time.monotonic()
    try:
        connections[alias].close()
    except Exception:  # noqa: BLE001 - it is already broken; the pool discards it
        connections[alias].connection = None
    _LAST_READ.set(None)
    logger.warning("replica_marked_down", alias=alias)
    return True


def replica_reset() -> None:
    """Start of a request or task: reads may go to replicas again."""
    _PINNED.set(False)
    _LAST_READ.set(None)


def replica_forget() -> None:
    """Forget every health verdict (tests)."""
    with _LOCK:
        _STATE.clear()


class ReplicaRouter:
    """``DATABASE_ROUTERS`` entry when ``DATABASE_REPLICA_URLS`` is set."""

    def db_for_read(self, model, **hints) -> str:
        alias = PRIMARY
        if not _PINNED.get() and not connections[PRIMARY].in_atomic_block:
            for candidate in replica_aliases():
                if replica_health(candidate).healthy:
                    alias = candidate
                    break
        _LAST_READ.set(alias)
        return alias

    def db_for_write(self, model, **hints) -> str:
        _PINNED.set(True)  # read-after-write in this request or task: the primary
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == PRIMARY


class ReplicaRequestMiddleware:
    """Each request starts unpinned (reads may use replicas)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        replica_reset()
        return self.get_response(request)
