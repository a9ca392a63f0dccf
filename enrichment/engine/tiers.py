"""The two storage tiers under the context cache.

- :class:`~enrichment.ops.l1.L1Cache`: in this process, a bounded LRU with
  per-entry expiry (kept in ``ops`` so lower rooms can use the same kind of
  memo; ``reset_l1`` empties them all).
- :class:`L2Cache`: Redis, shared by every process, through the raw client of
  the django-redis cache it is given (its connection pool, timeouts and key
  prefix). Values are bytes the context cache encodes itself (JSON), so a hit
  is one ``GET`` and one parse, and a chunk of contexts is written in one
  round trip. Redis failing or slow never raises on a read or a write: the
  call is treated as a miss, the outage is logged once (and its end once),
  and L2 is skipped for ``L2_RETRY_AFTER`` seconds so requests do not each pay
  the socket timeout. Invalidations (:meth:`L2Cache.replace`) are attempted
  even then, and raise :class:`L2Unavailable` when they did not get through.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import redis
import structlog
from django.core.cache.backends.base import BaseCache, default_key_func

logger = structlog.get_logger(__name__)

L2_RETRY_AFTER = 2.0

# Writes each entry only while its generation key holds what the writer read
# before computing it (empty: no generation yet), so a context computed from
# data read before an invalidation is never stored after it.
# KEYS: entry, generation, entry, generation, ...  ARGV: ttl, expected, value, expected, value, ...
_STORE_IF_CURRENT = """
local stored = 0
for i = 1, #KEYS, 2 do
  local current = redis.call('GET', KEYS[i + 1])
  local expected = ARGV[i + 1]
  if (current == false and expected == '') or current == expected then
    redis.call('SET', KEYS[i], ARGV[i + 2], 'EX', ARGV[1])
    stored = stored + 1
  end
end
return stored
"""


class L2Unavailable(Exception):
    """The shared cache could not be written."""


# Connection arguments a redis-py pool adds for its own connections.
_POOL_OWN = frozenset({"maint_notifications_pool_handler", "orig_host_address", "orig_socket_timeout", "orig_socket_connect_timeout"})


class _JoinedResp:
    """A Redis command packer writing the whole command as one bytes object.
    hiredis's packer, redis-py's default, copies a multi-megabyte command
    over and over (9 ms for a chunk of 500 contexts, against under 1 ms for
    this join, measured); used for the chunk writes only (:meth:`L2Cache._bulk_client`)."""

    def pack(self, *args: Any) -> list[bytes]:
        name = args[0] if isinstance(args[0], bytes) else str(args[0]).encode()
        args = (*name.split(), *args[1:])  # "SCRIPT LOAD" is two words, as redis-py's packers send it
        parts = [b"*%d\r\n" % len(args)]
        for arg in args:
            data = arg if isinstance(arg, bytes) else str(arg).encode()
            parts += (b"$%d\r\n" % len(data), data, b"\r\n")
        return [b"".join(parts)]


class L2Cache:
    """Redis as L2 (through a django-redis cache's raw client), with outage handling."""

    def __init__(self, backend: BaseCache, *, ttl: int):
        if not hasattr(getattr(backend, "client", None), "get_client"):
            raise TypeError("the context cache's L2 needs a django-redis cache (django_redis.cache.RedisCache)")
        self.backend = backend
        self.ttl = ttl
        self._down_until = 0.0
        self._down = False
        self._prefix = f"{backend.key_prefix}:{backend.version}:" if backend.key_func is default_key_func else None
        self._store_script: Any = None
        self._bulk: tuple[Any, Any] | None = None  # (the usual client's pool, the chunk writer's client)

    # -- health ---------------------------------------------------------------------------
    @property
    def available(self) -> bool:
        return not self._down or time.monotonic() >= self._down_until

    def _failed(self, operation: str, exc: Exception) -> None:
        if not self._down:
            logger.warning("context_cache_l2_unavailable", operation=operation, error=type(exc).__name__)
        self._down = True
        self._down_until = time.monotonic() + L2_RETRY_AFTER

    def _succeeded(self) -> None:
        if self._down:
            logger.info("context_cache_l2_recovered")
            self._down = False

    # -- keys and client ----------------------------------------------------------------------
    def key(self, key: str) -> str:
        """The Redis key of a cache key (the django cache's prefix and version)."""
        prefix = self._prefix
        return prefix + key if prefix is not None else str(self.backend.make_key(key))

    def _client(self) -> Any:
        return self.backend.client.get_client(write=True)

    def _bulk_client(self) -> Any:
        """A client of the same server for the chunk writes, whose commands are
        packed by :class:`_JoinedResp` (its own small pool); the usual client
        when the pool is not a plain one (e.g. Sentinel)."""
        client = self._client()
        pool = client.connection_pool
        if type(pool) is not redis.ConnectionPool:
            return client
        bulk = self._bulk
        if bulk is None or bulk[0] is not pool:
            kwargs = {k: v for k, v in pool.connection_kwargs.items() if k not in _POOL_OWN}  # the new pool makes its own
            kwargs["command_packer"] = _JoinedResp()
            own_pool = redis.ConnectionPool(pool.connection_class, max_connections=4, **kwargs)
            bulk = self._bulk = (pool, redis.Redis(connection_pool=own_pool))
        return bulk[1]

    # -- operations -------------------------------------------------------------------------
    def get(self, key: str) -> bytes | None:
        """The raw value of ``key`` (one ``GET``); ``None`` when absent or unreachable."""
        if not self.available:
            return None
        try:
            value = self._client().get(self.key(key))
        except Exception as exc:  # noqa: BLE001 - any cache failure is a miss
            self._failed("get", exc)
            return None
        self._succeeded()
        return value

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """The raw values of ``keys``, in order (one ``MGET``)."""
        if not keys or not self.available:
            return [None] * len(keys)
        try:
            values = self._client().mget([self.key(key) for key in keys])
        except Exception as exc:  # noqa: BLE001
            self._failed("get_many", exc)
            return [None] * len(keys)
        self._succeeded()
        return values

    def store_if_current(self, entries: Sequence[tuple[str, str, bytes, bytes]]) -> None:
        """Write ``(key, generation key, expected generation, value)`` entries
        with this tier's TTL, each only if its generation key still holds the
        expected raw value (``b""``: absent); one round trip for all."""
        if not entries or not self.available:
            return
        keys: list[str] = []
        args: list[Any] = [self.ttl]
        for key, generation_key, expected, value in entries:
            keys += (self.key(key), self.key(generation_key))
            args += (expected, value)
        try:
            client = self._bulk_client()
            if self._store_script is None:
                self._store_script = client.register_script(_STORE_IF_CURRENT)
            self._store_script(keys=keys, args=args, client=client)
        except Exception as exc:  # noqa: BLE001
            self._failed("set_many", exc)
            return
        self._succeeded()

    def replace(self, values: Mapping[str, bytes], delete: Sequence[str], *, ttl: int) -> None:
        """Write ``values`` and delete ``delete`` in one atomic round trip,
        even while marked down; raises :class:`L2Unavailable` when Redis cannot
        be reached (the caller keeps the work and retries)."""
        try:
            pipe = self._client().pipeline(transaction=True)
            for key, value in values.items():
                pipe.set(self.key(key), value, ex=ttl)
            if delete:
                pipe.delete(*(self.key(key) for key in delete))
            pipe.execute()
        except Exception as exc:
            self._failed("replace", exc)
            raise L2Unavailable(str(exc)) from exc
        self._succeeded()
