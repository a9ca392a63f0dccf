"""Which dataclass each section of a context is, built-in or registered.

The **built-in sections** (:data:`BUILTIN_SECTIONS`) are fields of
:class:`~enrichment.context.enriched.EnrichedContext` with a fixed place in the
JSON, the prompt and the admin. Any other section is an **extension section**:
it lives in ``EnrichedContext.extensions``, is rendered at the top level of the
JSON under its key, and is described here by a :class:`SectionSpec` (its
dataclass, title, audience and how it renders), so the codec, the cache, the
API schema and the prompt renderer handle it without knowing the provider.

The contract layer never imports the provider layer. The provider registry
(:mod:`enrichment.providers.registry`) calls :func:`register_section` for every
extension provider it loads, and installs a loader with
:func:`set_section_loader` so that the sections of ``settings.ENRICHMENT_PROVIDERS``
are registered on first use even in a process that has not built a context
service yet. :func:`reset_sections` forgets the registered sections (the
provider registry calls it when that setting changes).
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from enrichment.context.codec import from_jsonable, to_jsonable
from enrichment.context.sections import (
    AccountHealth,
    AgentPerformance,
    CompanyEnrichment,
    CurrentActivity,
    CustomerIntelligence,
    EngagementMetrics,
    ProductStatus,
    SubscriptionDetails,
    SupportHistory,
)

BUILTIN_SECTIONS: Mapping[str, type] = MappingProxyType(
    {
        "customer_intelligence": CustomerIntelligence,
        "engagement_metrics": EngagementMetrics,
        "support_history": SupportHistory,
        "subscription_details": SubscriptionDetails,
        "account_health": AccountHealth,
        "company_enrichment": CompanyEnrichment,
        "product_status": ProductStatus,
        "current_activity": CurrentActivity,
        "agent_performance": AgentPerformance,
    }
)

# Top-level keys of the context JSON (and of the API's payload) that are not
# sections: an extension section may not use one as its key.
RESERVED_KEYS: frozenset[str] = frozenset(
    {
        "customer_id",
        "next_actions",
        "enriched_at",
        "cache_hit",
        "enrichment_latency_ms",
        "sources",
        "degraded",
        "schema_version",
        "health_breakdown",
        "flags",
        "extensions",
        "prompt",
    }
)

# Keys are JSON keys, query-string values (``?sections=``) and prompt labels.
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


@dataclass(frozen=True, slots=True)
class SectionSpec:
    """An extension section as the renderers see it.

    - ``key``: its key in ``EnrichedContext.extensions`` and in the JSON.
    - ``section``: its frozen dataclass (defaults for every field).
    - ``title``: the heading of its prompt part and admin panel.
    - ``customer_facing``: whether a ``customer_facing`` audience may see it
      (JSON and prompt); ``False`` hides it from them.
    - ``prompt_lines``: ``section -> lines`` for the prompt (each line is made
      safe by the renderer), or ``None`` for no prompt part.
    - ``admin_rows``: ``section -> [(label, value)]`` for the admin, or ``None``.
    """

    key: str
    section: type
    title: str
    customer_facing: bool = False
    prompt_lines: Callable[[Any], Sequence[str]] | None = None
    admin_rows: Callable[[Any], Sequence[tuple[str, str]]] | None = None


class InvalidSection(ValueError):
    """A section key or dataclass that cannot be an extension section."""


_lock = threading.RLock()
_extensions: dict[str, SectionSpec] = {}  # replaced, never mutated: readers need no lock
_loader: Callable[[], object] | None = None
_loaded = False
_loading = False


def section_problem(key: str, section: Any) -> str | None:
    """Why ``key``/``section`` cannot be an extension section, or ``None``.

    The key must look like ``nps_survey`` and not be a built-in section or a
    reserved top-level key; the section must be a frozen dataclass with a
    default for every field whose default survives the JSON round trip the
    cache makes."""
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        return f"the key {key!r} must be lowercase letters, digits and '_', starting with a letter"
    if key in BUILTIN_SECTIONS or key in RESERVED_KEYS:
        return f"the key {key!r} is already a top-level key of the context"
    if not (isinstance(section, type) and dataclasses.is_dataclass(section)):
        return f"its section {section!r} is not a dataclass"
    if not section.__dataclass_params__.frozen:  # type: ignore[attr-defined]
        return f"its section {section.__name__} is not a frozen dataclass"
    missing = [
        f.name
        for f in dataclasses.fields(section)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        return f"its section {section.__name__} has no default for {', '.join(missing)}"
    try:
        default = section()
        if from_jsonable(section, json.loads(json.dumps(to_jsonable(default)))) != default:
            raise TypeError("the decoded default differs")
    except Exception as exc:  # noqa: BLE001 - any failure means "cannot be cached"
        return f"its section {section.__name__} does not survive a JSON round trip ({type(exc).__name__}: {exc})"
    return None


def register_section(
    key: str,
    section: type,
    *,
    title: str = "",
    customer_facing: bool = False,
    prompt_lines: Callable[[Any], Sequence[str]] | None = None,
    admin_rows: Callable[[Any], Sequence[tuple[str, str]]] | None = None,
) -> SectionSpec:
    """Register (or replace) the extension section ``key``. Raises
    :class:`InvalidSection` when :func:`section_problem` finds a problem."""
    global _extensions
    problem = section_problem(key, section)
    if problem is not None:
        raise InvalidSection(problem)
    spec = SectionSpec(
        key=key,
        section=section,
        title=title or key.replace("_", " ").capitalize(),
        customer_facing=customer_facing,
        prompt_lines=prompt_lines,
        admin_rows=admin_rows,
    )
    with _lock:
        _extensions = {**_extensions, key: spec}
    return spec


def reset_sections() -> None:
    """Forget every registered extension section; the loader (if any) runs
    again on next use."""
    global _extensions, _loaded
    with _lock:
        _extensions = {}
        _loaded = False


def set_section_loader(loader: Callable[[], object] | None) -> None:
    """Install the callable that registers the configured extension sections
    (the provider registry's). It runs once, on first use after a reset."""
    global _loader, _loaded
    with _lock:
        _loader = loader
        _loaded = False


def _ensure_loaded() -> None:
    """Run the loader once after a reset. Other threads wait for it (the lock);
    a call from inside the loader itself returns at once (``_loading``)."""
    global _loaded, _loading
    if _loaded or _loader is None:
        return
    with _lock:
        if _loaded or _loading:
            return
        _loading = True
        try:
            _loader()
            _loaded = True
        finally:
            _loading = False


def extension_sections() -> Mapping[str, SectionSpec]:
    """The registered extension sections by key, in registration order
    (the order of ``settings.ENRICHMENT_PROVIDERS``, dependencies first)."""
    _ensure_loaded()
    return _extensions


def section_spec(key: str) -> SectionSpec | None:
    """The registered extension section ``key``; ``None`` for a built-in or unknown key."""
    return extension_sections().get(key)


def section_types() -> dict[str, type]:
    """Every known section key and its dataclass: the built-in sections, then
    the registered extension sections."""
    return {**BUILTIN_SECTIONS, **{key: spec.section for key, spec in extension_sections().items()}}
