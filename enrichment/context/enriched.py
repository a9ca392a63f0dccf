"""The enriched context: the frozen dataclass passed between every layer.

Providers fill its sections (:mod:`enrichment.context.sections`), the cache
stores its JSON, and the API, admin, CLI and prompt renderer all render the
same :class:`EnrichedContext`. Sections of providers beyond the built-in ones
are kept in ``extensions`` (see :mod:`enrichment.context.registry`); build a
context from provider sections with :meth:`EnrichedContext.assemble` and read
any section with :meth:`EnrichedContext.section`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from enrichment.context.codec import encode_dataclass, from_jsonable, json_bytes, json_fragment, to_jsonable
from enrichment.context.prompt import render_prompt
from enrichment.context.registry import BUILTIN_SECTIONS, RESERVED_KEYS, extension_sections
from enrichment.context.sections import (
    AccountHealth,
    AgentPerformance,
    CompanyEnrichment,
    CurrentActivity,
    CustomerIntelligence,
    Degraded,
    EngagementMetrics,
    Flag,
    HealthFactor,
    NextAction,
    ProductStatus,
    SourceInfo,
    SubscriptionDetails,
    SupportHistory,
)

# Bump when a field is renamed or its meaning changes: it is part of the cache
# key, so old entries are simply not read after a deploy.
# 2: current_activity, agent_performance, next_actions; product status details.
# 4: lifecycle, last_mrr, canceled_at; churn_risk null ("churned") when canceled.
# 5: support_history.open_ticket_list; ticket briefs carry channel and updated_at.
# 6: account_health.churn_model (where the churn risk came from).
SCHEMA_VERSION = 6


# The built-in sections (fields of EnrichedContext). Every section, including the
# registered extension sections: enrichment.context.registry.section_types().
SECTION_TYPES: Mapping[str, type] = BUILTIN_SECTIONS


@dataclass(frozen=True, slots=True)
class EnrichedContext:
    customer_intelligence: CustomerIntelligence = CustomerIntelligence()
    engagement_metrics: EngagementMetrics = EngagementMetrics()
    support_history: SupportHistory = SupportHistory()
    subscription_details: SubscriptionDetails = SubscriptionDetails()
    account_health: AccountHealth = AccountHealth()
    company_enrichment: CompanyEnrichment | None = None
    product_status: ProductStatus = ProductStatus()
    current_activity: CurrentActivity = CurrentActivity()
    agent_performance: AgentPerformance = AgentPerformance()
    next_actions: tuple[NextAction, ...] = ()
    enriched_at: dt.datetime | None = None
    cache_hit: bool = False
    enrichment_latency_ms: float = 0.0
    sources: dict[str, SourceInfo] = field(default_factory=dict)
    degraded: tuple[Degraded, ...] = ()
    schema_version: int = SCHEMA_VERSION
    # Sections of providers whose key is not a built-in section, by key
    # (see enrichment.context.registry); rendered at the top level of the JSON.
    extensions: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def assemble(cls, sections: Mapping[str, Any], **fields: Any) -> EnrichedContext:
        """A context from sections keyed by section key: built-in keys (and any
        other field name) fill their fields, every other key goes to
        ``extensions`` (``None`` values there are left out). ``fields`` are
        passed on as they are and win over ``sections``."""
        values: dict[str, Any] = {}
        extensions: dict[str, Any] = {}
        for key, value in sections.items():
            if key in _FIELD_NAMES:
                values[key] = value
            elif key in RESERVED_KEYS:
                raise ValueError(f"{key!r} is a top-level key of the context JSON, not a section")
            elif value is not None:
                extensions[key] = value
        return cls(**{**values, "extensions": extensions, **fields})

    def section(self, key: str) -> Any:
        """The section ``key``: a built-in section's field, or the extension
        section of that key (``None`` when this context has none)."""
        if key in BUILTIN_SECTIONS:
            return getattr(self, key)
        return self.extensions.get(key)

    # -- derived views ---------------------------------------------------------
    @property
    def customer_id(self) -> str:
        return self.customer_intelligence.customer_id

    @property
    def health_breakdown(self) -> tuple[HealthFactor, ...]:
        return self.account_health.breakdown

    @property
    def flags(self) -> tuple[Flag, ...]:
        return self.account_health.flags

    @property
    def cache_tier(self) -> str:
        """Which tier served this context: ``computed`` (fresh), ``l1`` or ``l2``."""
        return "computed"

    @property
    def is_degraded(self) -> bool:
        return bool(self.degraded)

    # -- JSON ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The JSON contract: the seed's fields plus health_breakdown, flags,
        sources and degraded at the top level, then each extension section
        under its key."""
        data = encode_dataclass(self)
        health = data["account_health"]
        data["health_breakdown"] = health.pop("breakdown")
        data["flags"] = health.pop("flags")
        data.update(data.pop("extensions"))
        return data

    def to_json(self, *, shared: dict[int, tuple[Any, Any]] | None = None) -> bytes:
        """:meth:`to_dict` as compact JSON bytes: the same document, key for key
        and in the same order, written by orjson straight from the section
        dataclasses (no intermediate dicts: the cache and the batch refresh
        write thousands). Extension sections go through :func:`to_jsonable`.
        ``shared``: a memo for a batch of contexts, whose ``sources`` entries
        are mostly the very same objects (one per provider and chunk), each
        then written once (:func:`json_fragment`)."""
        health = self.account_health
        data: dict[str, Any] = {name: getattr(self, name) for name in _JSON_FIELDS}
        if shared is not None:
            data["sources"] = {key: json_fragment(source, shared) for key, source in self.sources.items()}
        data["account_health"] = {name: getattr(health, name) for name in _HEALTH_JSON_FIELDS}
        data["health_breakdown"] = health.breakdown
        data["flags"] = health.flags
        for key, value in self.extensions.items():
            data[key] = to_jsonable(value)
        try:
            return json_bytes(data)
        except TypeError:  # a value orjson does not write (e.g. non-string keys in flag evidence)
            return json.dumps(self.to_dict(), separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EnrichedContext:
        data = dict(data)
        health = dict(data.get("account_health") or {})
        health["breakdown"] = data.pop("health_breakdown", [])
        health["flags"] = data.pop("flags", [])
        data["account_health"] = health
        data["extensions"] = decode_extensions(data)
        return from_jsonable(cls, data)

    # -- renderings ---------------------------------------------------------------
    def to_prompt_context(
        self, *, max_chars: int | None = None, hide: frozenset[str] = frozenset(), omit: frozenset[str] = frozenset()
    ) -> str:
        return self.memoized(("prompt", max_chars, hide, omit), lambda: render_prompt(self, max_chars=max_chars, hide=hide, omit=omit))

    def memoized(self, key: Any, build: Any) -> Any:
        """A rendering of this context. Contexts served from the cache keep it
        (see :class:`~enrichment.context.lazy.LazyEnrichedContext`); others build it."""
        return build()

    def get_summary(self) -> dict[str, Any]:
        """The seed's summary keys, in the seed's order, then ``lifecycle``.
        A canceled account's ``churn_risk`` is ``None`` ("churned")."""
        intel = self.customer_intelligence
        health = self.account_health
        return {
            "company_name": intel.company_name,
            "plan": intel.plan,
            "health_score": health.health_score,
            "churn_risk": health.churn_risk,
            "churn_risk_level": health.churn_risk_level,
            "login_count_30d": self.engagement_metrics.login_count_30d,
            "open_tickets": self.support_history.open_tickets,
            "days_to_renewal": self.subscription_details.days_to_renewal,
            "has_critical_issues": bool(health.red_flags),
            "has_opportunities": bool(health.green_flags),
            "cache_hit": self.cache_hit,
            "lifecycle": intel.lifecycle,
        }

    def replace(self, **changes: Any) -> EnrichedContext:
        return dataclasses.replace(self, **changes)


_FIELD_NAMES = frozenset(f.name for f in dataclasses.fields(EnrichedContext)) - {"extensions"}
# to_json's top level, in to_dict's order (extensions last, spread out).
_JSON_FIELDS = tuple(f.name for f in dataclasses.fields(EnrichedContext) if f.name != "extensions")
_HEALTH_JSON_FIELDS = tuple(f.name for f in dataclasses.fields(AccountHealth) if f.name not in ("breakdown", "flags"))
assert not _FIELD_NAMES - BUILTIN_SECTIONS.keys() - RESERVED_KEYS, "a field of EnrichedContext is missing from RESERVED_KEYS"


def decode_extensions(data: Mapping[str, Any]) -> dict[str, Any]:
    """The registered extension sections found at the top level of a context's
    JSON, decoded; keys nobody registered are left out."""
    return {key: from_jsonable(spec.section, data[key]) for key, spec in extension_sections().items() if key in data}
