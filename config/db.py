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

import contextlib
import contextvars
import functools
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
import structlog
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connections, router, transaction
from django.db.models import QuerySet
from psycopg_pool import PoolTimeout

_logger = structlog.get_logger(__name__)


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

    def alias(self) -> str:
        """The database this query reads from: the router's choice (a replica, see config/replicas.py) or ``default``."""
        return router.db_for_read(self.model) if settings.DATABASE_ROUTERS else "default"

    def statement(self, using: str, values: dict[str, Any]) -> tuple[str, list[Any]]:
        """The compiled SQL for ``using`` and its parameters for ``values``."""
        compiled = self._compiled.get(using)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(using) or self._compile(using)
                self._compiled[using] = compiled
        sql, slots = compiled
        return sql, [values[item] if is_slot else item for is_slot, item in slots]

    def rows(self, *, using: str | None = None, **values: Any) -> list[tuple]:
        """Run with the real values, on ``using`` or where the router reads this model.
        Inside :func:`prefetched`, the rows the pipeline already fetched for
        exactly these values are returned instead (each once)."""
        if using is None:
            using = self.alias()
        held = _PREFETCHED.get()
        if held is not None:
            rows = held.pop(_held_key(self, using, values), None)
            if rows is not None:
                return rows
        connection = connections[using]
        if connection.vendor != "postgresql":
            return list(self.build(**values))
        sql, params = self.statement(using, values)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()


# --- many compiled queries in one round trip ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlannedQuery:
    """A :class:`CompiledQuery` and the values it will be run with."""

    query: CompiledQuery
    values: dict[str, Any]


_PREFETCHED: contextvars.ContextVar[dict[tuple, list[tuple]] | None] = contextvars.ContextVar("prefetched_rows", default=None)


def _held_key(query: CompiledQuery, using: str, values: dict[str, Any]) -> tuple:
    return (id(query), using, tuple(sorted(values.items())))


@contextlib.contextmanager
def prefetched(planned: Sequence[PlannedQuery], *, meanwhile: Callable[[], object] | None = None) -> Iterator[None]:
    """Run the ``planned`` queries in one round trip (psycopg's pipeline mode)
    and, inside the block, answer :meth:`CompiledQuery.rows` from their rows.
    ``meanwhile`` runs once, while the statements are on the wire (e.g. a
    Redis read), or first when there is no pipeline.

    The statements are the very ones ``rows`` would run, so the results are
    identical; a planned query that is not asked for cost only its execution,
    and one asked for but not planned simply runs. Not on PostgreSQL, or when
    the pipeline fails (a statement's error aborts the ones after it), nothing
    is held and every query runs on its own as before, so its error reaches
    the caller exactly as it would have."""
    held = _pipeline(planned, meanwhile) if planned else None
    if held is None and meanwhile is not None and not planned:
        meanwhile()
    token = _PREFETCHED.set(held)
    try:
        yield
    finally:
        _PREFETCHED.reset(token)


def _pipeline(planned: Sequence[PlannedQuery], meanwhile: Callable[[], object] | None) -> dict[tuple, list[tuple]] | None:
    using = planned[0].query.alias()
    connection = connections[using]
    if connection.vendor != "postgresql" or any(item.query.alias() != using for item in planned):
        if meanwhile is not None:
            meanwhile()
        return None
    # Inside a transaction, a failing statement would abort it: a savepoint
    # keeps the fallback's statements runnable (autocommit, the serving case,
    # needs none).
    guard = transaction.atomic(using=using) if connection.in_atomic_block else contextlib.nullcontext()
    ran = False

    def then() -> None:
        nonlocal ran
        ran = True
        if meanwhile is not None:
            meanwhile()

    try:
        with guard:
            rows = _pipelined_rows(connection, [item.query.statement(using, item.values) for item in planned], then)
    except (DatabaseError, psycopg.Error) as exc:
        _logger.info("pipeline_fallback", statements=len(planned), error=type(exc).__name__)
        if not ran:
            then()
        return None
    return {_held_key(item.query, using, item.values): found for item, found in zip(planned, rows, strict=True)}


def _pipelined_rows(connection: Any, statements: list[tuple[str, list[Any]]], meanwhile: Callable[[], None]) -> list[list[tuple]]:
    connection.ensure_connection()
    # Plain psycopg cursors cost a third of Django's; Django's when something
    # watches the queries (logging, execute wrappers), so they see every one.
    plain = not connection.execute_wrappers and not connection.queries_logged
    cursors = [connection.connection.cursor() if plain else connection.cursor() for _ in statements]
    try:
        with connection.connection.pipeline() as pipeline:
            for cursor, (sql, params) in zip(cursors, statements, strict=True):
                cursor.execute(sql, params)  # sent now; the results are read at the sync
            meanwhile()
            pipeline.sync()
        return [cursor.fetchall() for cursor in cursors]
    finally:
        for cursor in cursors:
            cursor.close()


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
