"""Counters every process shares: Redis hashes when the default cache is Redis
(django-redis), a process-local store otherwise (the embedded default, where
tasks run eagerly in the one process anyway).

Used for what no single process can count alone: Celery task outcomes and
latency (written by each worker), the beat heartbeat (written by beat). Any web
process reads them at scrape time. Never raises: a metric must not break a task.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Mapping

import structlog
from django.conf import settings
from django_redis import get_redis_connection

logger = structlog.get_logger(__name__)

PREFIX = "cce:metrics:"
_LOCAL: dict[str, dict[str, float]] = defaultdict(dict)
_LOCAL_LOCK = threading.Lock()


def _redis():
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    return get_redis_connection("default") if backend.startswith("django_redis") else None


def hash_increment(key: str, amounts: Mapping[str, float], *, member_of: str | None = None) -> None:
    """Add ``amounts`` to the fields of hash ``key`` (and record ``key`` in the set ``member_of``)."""
    try:
        client = _redis()
        if client is None:
            with _LOCAL_LOCK:
                fields = _LOCAL[PREFIX + key]
                for field, amount in amounts.items():
                    fields[field] = fields.get(field, 0) + amount
                if member_of:
                    _LOCAL[PREFIX + member_of][key] = 1
            return
        pipe = client.pipeline(transaction=False)
        for field, amount in amounts.items():
            if float(amount).is_integer():
                pipe.hincrby(PREFIX + key, field, int(amount))
            else:
                pipe.hincrbyfloat(PREFIX + key, field, amount)
        if member_of:
            pipe.sadd(PREFIX + member_of, key)
        pipe.execute()
    except Exception as exc:  # noqa: BLE001 - metrics never break the caller
        logger.debug("shared_metrics_write_failed", key=key, error=type(exc).__name__)


def hash_set(key: str, values: Mapping[str, float]) -> None:
    try:
        client = _redis()
        if client is None:
            with _LOCAL_LOCK:
                _LOCAL[PREFIX + key].update(values)
            return
        client.hset(PREFIX + key, mapping=dict(values))
    except Exception as exc:  # noqa: BLE001
        logger.debug("shared_metrics_write_failed", key=key, error=type(exc).__name__)


def hashes_read(keys: list[str]) -> dict[str, dict[str, float]]:
    """The hashes at ``keys`` (missing ones left out); raises when Redis is down."""
    client = _redis()
    if client is None:
        with _LOCAL_LOCK:
            return {key: dict(_LOCAL[PREFIX + key]) for key in keys if _LOCAL.get(PREFIX + key)}
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.hgetall(PREFIX + key)
    found = {}
    for key, raw in zip(keys, pipe.execute(), strict=True):
        if raw:
            found[key] = {field.decode(): float(value) for field, value in raw.items()}
    return found


def set_members(key: str) -> list[str]:
    client = _redis()
    if client is None:
        with _LOCAL_LOCK:
            return sorted(_LOCAL.get(PREFIX + key, {}))
    return sorted(member.decode() for member in client.smembers(PREFIX + key))


def reset_local() -> None:
    with _LOCAL_LOCK:
        _LOCAL.clear()
