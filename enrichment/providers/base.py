"""The provider contract: one class fetches one section for one customer.

A provider whose ``key`` is not a built-in section adds an *extension section*:
its ``section`` dataclass, ``title``, ``customer_facing``, :meth:`prompt_lines`
and :meth:`admin_rows` are all the JSON, the cache, the API schema, the prompt
and the admin need (see :mod:`enrichment.context.registry`), so a new data
source is one class and one line in ``settings.ENRICHMENT_PROVIDERS``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from config.db import PlannedQuery
from customers.selectors import CustomerRef


@dataclass(frozen=True, slots=True)
class ProviderRequest:
    """What a provider is given: the customer and the moment of the request."""

    customer: CustomerRef
    now: dt.datetime

    @property
    def today(self) -> dt.date:
        return self.now.date()


# Sources that never wait on a third party at request time: these providers run
# even when the service is built with ``enable_external_apis=False``.
INTERNAL_SOURCES = frozenset({"database", "computed", "redis"})


class ContextProvider:
    """Base class for context providers.

    Subclasses set the class attributes and implement :meth:`fetch`:

    - ``key``: the section of :class:`~enrichment.context.enriched.EnrichedContext` it fills.
    - ``section``: that section's dataclass; ``section()`` is the default used
      when the provider fails or times out.
    - ``source``: where the data comes from (``database``, ``clearbit`` ...).
    - ``timeout``: seconds. Concurrent providers are abandoned after it; inline
      (database) providers are measured against it and bounded by the database's
      statement timeout.
    - ``ttl``: seconds a cached section stays fresh.
    - ``concurrent``: ``True`` for providers that wait on the network; they run
      in a worker thread while the inline providers run.
    - ``depends_on``: section keys a derived provider needs; it runs after them
      and receives them in ``sections``.

    A provider may fill a section of its own (an *extension section*): a
    ``key`` that is not a built-in section (lowercase, e.g. ``nps_survey``) and
    a ``section`` that is a frozen dataclass with a default for every field.
    Its JSON appears at the top level of the context under ``key``. For those
    sections only:

    - ``title``: the heading of its prompt part and admin panel (default: the
      key, humanised).
    - ``customer_facing``: ``True`` lets a ``customer_facing`` token see the
      section (JSON and prompt); by default only the ``full`` scope does.
    - :meth:`prompt_lines` and :meth:`admin_rows`: how it renders.

    Built-in sections keep their fixed layout and ignore these four.

    Providers are registered by dotted path in ``settings.ENRICHMENT_PROVIDERS``.
    """

    key: ClassVar[str] = ""
    section: ClassVar[type] = object
    source: ClassVar[str] = "database"
    timeout: ClassVar[float] = 0.5
    ttl: ClassVar[int] = 300
    concurrent: ClassVar[bool] = False
    depends_on: ClassVar[tuple[str, ...]] = ()
    title: ClassVar[str] = ""
    customer_facing: ClassVar[bool] = False

    @property
    def name(self) -> str:
        return type(self).__name__

    def is_enabled(self) -> bool:
        """A provider may switch itself off (e.g. a vendor with no API key)."""
        return True

    def data_version(self) -> str | None:
        """The version of the data the provider reads, when it has one that
        other processes can move on (e.g. the published incidents). The service
        stamps each computed section with it and recomputes a cached section
        whose version differs. ``None``: only the TTL applies. Must be cheap."""
        return None

    def fetch(self, request: ProviderRequest, *, sections: Mapping[str, Any]) -> Any:
        raise NotImplementedError

    def fetch_many(
        self, requests: Sequence[ProviderRequest], *, sections: Mapping[int, Mapping[str, Any]]
    ) -> dict[int, Any]:
        """Sections for many customers (keyed by customer pk), for batch
        refreshes. The default calls :meth:`fetch` for each; providers backed
        by the database override it with set-based queries."""
        return {r.customer.pk: self.fetch(r, sections=sections.get(r.customer.pk, {})) for r in requests}

    def planned_queries(self, request: ProviderRequest) -> Sequence[PlannedQuery]:
        """The compiled statements :meth:`fetch_many` will run for this one
        customer, so that the runner can send every provider's statements in
        one round trip before running them (:func:`config.db.prefetched`). A
        statement planned but then not needed costs only its execution; one
        not planned simply runs on its own. Default: none."""
        return ()

    def is_stale(self, value: Any, now: dt.datetime) -> bool:
        """Whether a fetched section holds data older than it should (e.g.
        stored vendor answers past their TTL); shown as ``sources[key].stale``."""
        return False

    def default(self) -> Any:
        return self.section()

    def prompt_lines(self, section: Any) -> list[str]:
        """Lines for the prompt block, shown as ``- <line>`` under a
        ``<title>:`` heading (extension sections only). The renderer passes
        every line through ``safe_text`` (one line each, no tags, capped
        length), skips empty ones and keeps the first few. Default: no lines,
        so the section is not in the prompt."""
        return []

    def admin_rows(self, section: Any) -> list[tuple[str, str]]:
        """Label/value pairs for the admin's panel of this section (extension
        sections only). Default: one row per field of the dataclass."""
        if not dataclasses.is_dataclass(section):
            return []
        return [
            (f.name.replace("_", " ").capitalize(), "" if (value := getattr(section, f.name)) is None else str(value))
            for f in dataclasses.fields(section)
        ]

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"<{self.name} key={self.key!r}>"


class BatchProvider(ContextProvider):
    """A provider whose natural form is set-based: implement :meth:`fetch_many`;
    a single fetch is a batch of one, so both paths run the same queries."""

    def fetch(self, request: ProviderRequest, *, sections: Mapping[str, Any]) -> Any:
        return self.fetch_many([request], sections={request.customer.pk: sections})[request.customer.pk]

    def fetch_many(
        self, requests: Sequence[ProviderRequest], *, sections: Mapping[int, Mapping[str, Any]]
    ) -> dict[int, Any]:
        raise NotImplementedError
