"""The customers this process has looked up: a guess that saves the cold
path its first round trip.

A cold context needs the customer's primary key before its statements can
be sent. A process that has seen the customer before guesses it from here,
sends the customer's lookup in the same pipeline as the providers'
statements, and checks the guess against what the database answered
(:class:`~enrichment.engine.runner.ProviderRunner`, ``verify``): a customer
renamed, deleted or re-created since then is simply looked up again, so a
context is never built from a stale profile.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from customers.selectors import CustomerRef

MAX_KNOWN_REFS = 50_000  # about 10 MB; the whole map is dropped when full


class KnownRefs:
    """External id -> :class:`CustomerRef`, per process, bounded."""

    def __init__(self, max_entries: int = MAX_KNOWN_REFS):
        self.max_entries = max_entries
        self._refs: dict[str, CustomerRef] = {}
        self._lock = threading.Lock()

    def get(self, external_id: str) -> CustomerRef | None:
        return self._refs.get(external_id)

    def remember(self, refs: Iterable[CustomerRef]) -> None:
        with self._lock:
            for ref in refs:
                if len(self._refs) >= self.max_entries:
                    self._refs.clear()
                self._refs[ref.external_id] = ref

    def forget(self, external_id: str) -> None:
        with self._lock:
            self._refs.pop(external_id, None)
