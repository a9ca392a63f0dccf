"""Querysets compiled to SQL once and run many times, and the one policy for
a database connection that failed under a request (:func:`connection_failed`,
:func:`connection_discard`).

Building and compiling a Django queryset costs far more than running a small
indexed query on PostgreSQL over loopback (about 0.3-0.5 ms against 0.1 ms).
The hot selectors of the context's cold path therefore compile their
queryset once per process, with sentinel values standing in for the
parameters, and afterwards only execute the cached SQL with the real values.

Only on PostgreSQL, whose driver returns typed values (dates, aware datetimes,
decimals) exactly as the ORM would for these ``values_list`` queries. On other
databases (SQLite in the embedded default) the queryset simply runs through the
ORM every time: same SQL, same results, just not the saving.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import psycopg
from django.conf import settings
from django.db import InterfaceError, OperationalError, connections, router
from django.db.models import QuerySet
from psycopg_pool import PoolTimeout


class CompiledQuery:
    """``CompiledQuery(build, customer_pk=-9_000_001, ...)``: ``build(**sentinels)``
    returns a ``values_list`` queryset; ``rows(**values)`` runs it with the real
    values. Every sentinel must be unique and appear among the SQL parameters."""

    def __init__(self, build: Callable[..., QuerySet], **sentinels: Any):
        self.build = build
        self.sentinels = sentinels
        self._compiled: dict[str, tuple[str, list[tuple[bool, Any]]]] = {}
        self._lock = threading.Lock()

    @functools.cached_property
    def model(self) -> Any:
        return self.build(**self.sentinels).model

    def _compile(self, alias: str) -> tuple[str, list[tuple[bool, Any]]]:
        queryset = self.build(**self.sentinels)
        sql, params = queryset.query.get_compiler(using=alias).as_sql()
        by_value = {repr(value): name for name, value in self.sentinels.items()}
        slots: list[tuple[bool, Any]] = []
        used = set()
        for param in params:
            name = by_value.get(repr(param))
            if name is None:
                slots.append((False, param))
            else:
                used.add(name)
                slots.append((True, name))
        missing = set(self.sentinels) - used
        if missing:
            raise ValueError(f"sentinels not found among the SQL parameters: {sorted(missing)}")
        return sql, slots

    def rows(self, *, using: str | None = None, **values: Any) -> list[tuple]:
        """Run with the real values, on ``using`` or where the router reads this model (a replica, see config/replicas.py)."""
        if using is None:
            using = router.db_for_read(self.model) if settings.DATABASE_ROUTERS else "default"
        connection = connections[using]
        if connection.vendor != "postgresql":
            return list(self.build(**values))
        compiled = self._compiled.get(using)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(using) or self._compile(using)
                self._compiled[using] = compiled
        sql, slots = compiled
        params = [values[item] if is_slot else item for is_slot, item in slots]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()


# --- a connection that failed under a request -------------------------------------------------


def cannot_connect(exc: BaseException) -> bool:
    """No connection could be had at all (the pool's wait ran out): the database
    is unreachable, and a retry would only wait as long again."""
    return isinstance(exc, PoolTimeout) or isinstance(exc.__cause__, PoolTimeout)


def connection_failed(exc: BaseException, *, using: str = "default") -> bool:
    """Whether ``exc`` is the connection failing rather than the query: the
    server went away (``pg_terminate_backend``, a restart, a failover, a cut
    network), the connection is closed or broken, or none could be made. Not a
    deadlock, a statement timeout or a constraint: those leave the connection
    usable and are the query's own errors."""
    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    if cannot_connect(exc) or _lost(exc.__cause__):
        return True
    raw = connections[using].connection  # (Django may already have replaced it, e.g. after a failed COMMIT)
    return raw is None or bool(getattr(raw, "closed", False)) or bool(getattr(raw, "broken", False))


def _lost(cause: BaseException | None) -> bool:
    """A psycopg error that says the connection is gone: raised by the client
    itself (no SQLSTATE: "server closed the connection unexpectedly", "the
    connection is closed"), an operator intervention (57P01 admin shutdown,
    57P02 crash shutdown, 57P03 cannot connect now) or a connection exception
    (class 08). A server-side error of the query (a statement timeout 57014,
    a deadlock 40P01) is not."""
    if isinstance(cause, psycopg.InterfaceError):
        return True
    if not isinstance(cause, psycopg.OperationalError):
        return False
    sqlstate = cause.sqlstate or ""
    return sqlstate == "" or sqlstate.startswith(("57P", "08"))


def connection_discard(*, using: str = "default") -> None:
    """Drop this thread's connection and, with a pool, check every idle
    connection in it (psycopg_pool's ``check()``: one round trip each, broken
    ones discarded and replaced), so the retry that follows does not pick
    another connection the same event killed. Only called after a failure:
    the hot path pays nothing."""
    wrapper = connections[using]
    try:
        wrapper.close()  # a broken connection goes back to the pool, which discards it
    except (OperationalError, InterfaceError):
        wrapper.connection = None
    pool = getattr(wrapper, "pool", None) if wrapper.settings_dict.get("OPTIONS", {}).get("pool") else None
    if pool is not None and not pool.closed:
        pool.check()
