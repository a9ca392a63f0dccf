"""Readiness: may this process take traffic? (``GET /readyz``; liveness is ``/healthz``).

Each dependency is probed in a small thread pool and the answer is given within
``READY_TIMEOUT`` seconds whatever the dependency does (a database whose
packets are dropped would otherwise hold the request for the pool's timeout).
A probe still running from an earlier call is awaited again rather than
started twice, so a dead dependency never piles up threads.

==========  ========================  =============================================
dependency  when it fails             why
==========  ========================  =============================================
database    ``error`` (503)           no context can be computed without it
cache       ``degraded`` (200)        Redis: contexts are still served (L1 or computed)
broker      ``degraded`` (200)        Celery broker: requests are served; refreshes
                                      and vendor fetches wait until it is back
==========  ========================  =============================================
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import redis
import structlog
from django.conf import settings
from django.core.cache import caches
from django.db import connections
from kombu import Connection

logger = structlog.get_logger(__name__)

READY_TIMEOUT = 0.8  # seconds: the whole answer, all probes together
BROKER_TIMEOUT = 0.5
REQUIRED = frozenset({"database"})

_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="readyz")
_INFLIGHT: dict[str, Future] = {}
_LOCK = threading.Lock()


def probe_database() -> None:
    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        connection.close()  # this thread's connection (back to the pool when pooled)


def probe_cache() -> None:
    cache = caches["default"]
    probe = uuid.uuid4().hex
    cache.set("readyz:probe", probe, timeout=10)
    if cache.get("readyz:probe") != probe:
        raise ConnectionError("the cache did not return what was written")


def probe_broker() -> str:
    """``ok``, or ``eager`` when tasks run in the caller (no broker to check)."""
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        return "eager"
    url = settings.CELERY_BROKER_URL
    if url.startswith(("redis://", "rediss://", "unix://")):
        client = redis.Redis.from_url(url, socket_timeout=BROKER_TIMEOUT, socket_connect_timeout=BROKER_TIMEOUT)
        try:
            client.ping()
        finally:
            client.close()
        return "ok"
    if url.startswith("memory://"):
        return "ok"
    with Connection(url, connect_timeout=BROKER_TIMEOUT) as conn:
        conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT)
    return "ok"


PROBES: dict[str, Callable[[], object]] = {"database": probe_database, "cache": probe_cache, "broker": probe_broker}


def _submit(name: str, probe: Callable[[], object]) -> Future:
    with _LOCK:
        future = _INFLIGHT.get(name)
        if future is None or future.done():
            future = _POOL.submit(probe)
            _INFLIGHT[name] = future
        return future


def readiness(timeout: float = READY_TIMEOUT) -> dict:
    """``{"status": ok|degraded|error, "checks": {name: ok|eager|unreachable|timeout}, "elapsed_ms"}``.
    ``error`` only when a required dependency (the database) fails."""
    started = time.monotonic()
    futures = {name: _submit(name, probe) for name, probe in PROBES.items()}
    deadline = started + timeout
    checks: dict[str, str] = {}
    for name, future in futures.items():
        try:
            result = future.result(timeout=max(0.0, deadline - time.monotonic()))
            checks[name] = result if isinstance(result, str) else "ok"
        except FutureTimeout:
            checks[name] = "timeout"
        except Exception as exc:  # noqa: BLE001 - any failure of a probe means "not answering"
            checks[name] = "unreachable"
            logger.warning("readyz_probe_failed", dependency=name, error=type(exc).__name__)
    failing = {name for name, state in checks.items() if state in ("timeout", "unreachable")}
    status = "error" if failing & REQUIRED else "degraded" if failing else "ok"
    return {"status": status, "checks": checks, "elapsed_ms": round((time.monotonic() - started) * 1000, 1)}
