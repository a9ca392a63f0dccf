"""How a chunk of contexts is computed: the cyclic collector paused over
it, and a refresh of many chunks overlapping its health writes with the
computation of the next chunk."""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Callable, Iterator

from enrichment.history.writer import deferred, health_flush

_REFRESH = threading.local()


def refresh_running() -> bool:
    """Whether this thread is inside :func:`refreshing`."""
    return getattr(_REFRESH, "active", False)


COLLECT_EVERY = 20  # chunks of a refresh between two collections of the young objects


@contextlib.contextmanager
def refreshing() -> Iterator[Callable[[], None]]:
    """A refresh of many chunks (this thread). Each chunk's health rows are
    handed to the background writer at once, so the database writes them
    while the next chunk is computed, and all are written before it returns.
    The cyclic collector stays paused over the whole refresh rather than
    each chunk: re-enabled while a chunk's contexts were still alive, it
    walked them all each time (a refresh makes no reference cycles: none over
    1,500 contexts, measured); the young objects are collected every
    ``COLLECT_EVERY`` chunks (call the yielded function after each chunk),
    when little of them is left."""
    outer = refresh_running()
    _REFRESH.active = True
    chunks = 0

    def chunk_done() -> None:
        nonlocal chunks
        chunks += 1
        if not chunks % COLLECT_EVERY:
            gc.collect(1)

    with collector_paused(not outer):
        try:
            yield chunk_done
        finally:
            _REFRESH.active = outer
            if not outer and deferred():
                health_flush()


@contextlib.contextmanager
def collector_paused(pause: bool) -> Iterator[None]:
    """A chunk allocates tens of thousands of small acyclic objects; letting the
    cyclic collector run over them repeatedly doubled the cost (measured)."""
    was_enabled = gc.isenabled()
    if pause and was_enabled:
        gc.disable()
    try:
        yield
    finally:
        if pause and was_enabled:
            gc.enable()
