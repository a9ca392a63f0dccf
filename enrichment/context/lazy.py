"""A context read back from the cache, decoded section by section on demand.

Materialising every frozen dataclass of a 5 KB context costs several times
more than fetching and parsing its JSON. An L2 hit therefore returns a
:class:`LazyEnrichedContext`: an :class:`EnrichedContext` whose fields are
decoded from the cached JSON the first time they are read. Callers that only
need JSON (the API) or the summary never pay for the dataclasses at all;
callers that read a section get exactly the object a fresh computation gives.
Extension sections (top-level keys registered in
:mod:`enrichment.context.registry`) are decoded together, as ``extensions``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from enrichment.context.codec import decode_value, field_types, json_loads
from enrichment.context.enriched import EnrichedContext, decode_extensions

_FIELDS = tuple(f.name for f in dataclasses.fields(EnrichedContext))
# The entry's JSON, in the memo every copy of it shares: parsed (_DATA) or as cached (_RAW).
_DATA = ("json",)
_RAW = ("json-bytes",)


def _lazy_field(name: str) -> property:
    def get(self: LazyEnrichedContext) -> Any:
        state = self.__dict__
        key = (name, state["_tier"]) if name == "sources" else name
        memo = state["_memo"]
        if key not in memo:
            memo[key] = self._decode_field(name)
        return memo[key]

    return property(get)


class LazyEnrichedContext(EnrichedContext):
    """An :class:`EnrichedContext` backed by its cached JSON (``to_dict`` form).

    Decoded fields and renderings (see :meth:`memoized`) live in a memo shared
    by every copy made from the same cache entry, so each is built once per
    entry, not once per request."""

    def __init__(
        self,
        data: dict[str, Any] | None = None,
        *,
        tier: str,
        cache_hit: bool = True,
        latency_ms: float = 0.0,
        memo: dict | None = None,
        raw: bytes | None = None,
    ):
        """From the context's JSON: ``data`` (its ``to_dict`` form), or ``raw``
        (those bytes, parsed on first use: a context that is cached but never
        read costs nothing to keep), or the ``memo`` of another copy."""
        state = self.__dict__
        memo = {} if memo is None else memo
        if data is not None:
            memo[_DATA] = data
        elif raw is not None:
            memo[_RAW] = raw
        state["_memo"] = memo
        state["_tier"] = tier
        state["cache_hit"] = cache_hit
        state["enrichment_latency_ms"] = latency_ms

    @property
    def _data(self) -> dict[str, Any]:
        """The context's JSON as a dict, parsed from the raw bytes once per entry."""
        memo = self.__dict__["_memo"]
        data = memo.get(_DATA)
        if data is None:
            data = memo[_DATA] = json_loads(memo[_RAW])
        return data

    def memoized(self, key: Any, build: Any) -> Any:
        memo = self.__dict__["_memo"]
        if key not in memo:
            memo[key] = build()
        return memo[key]

    # -- decoding -----------------------------------------------------------------
    def _decode_field(self, name: str) -> Any:
        data = self._data
        hints = field_types(EnrichedContext)
        if name == "account_health":
            health = dict(data.get("account_health") or {})
            health["breakdown"] = data.get("health_breakdown", [])
            health["flags"] = data.get("flags", [])
            return decode_value(hints[name], health)
        if name == "extensions":
            return decode_extensions(data)
        if name == "sources":
            tier = self.__dict__["_tier"]
            decoded = decode_value(hints[name], data.get("sources") or {})
            return {key: dataclasses.replace(src, tier=tier) for key, src in decoded.items()}
        if name not in data:
            return next(f for f in dataclasses.fields(EnrichedContext) if f.name == name).default
        return decode_value(hints[name], data[name])

    def materialize(self) -> EnrichedContext:
        return EnrichedContext(**{name: getattr(self, name) for name in _FIELDS})

    # -- cheap derived copies -------------------------------------------------------
    def with_tier(self, tier: str) -> LazyEnrichedContext:
        return LazyEnrichedContext(tier=tier, latency_ms=self.enrichment_latency_ms, memo=self.__dict__["_memo"])

    def with_latency(self, latency_ms: float) -> LazyEnrichedContext:
        copy = LazyEnrichedContext.__new__(LazyEnrichedContext)
        copy.__dict__.update(self.__dict__)
        copy.__dict__["enrichment_latency_ms"] = latency_ms
        return copy

    @property
    def cache_tier(self) -> str:
        return self.__dict__["_tier"]

    def section_versions(self) -> dict[str, str]:
        """Each section's data version as stamped when it was computed."""
        return {key: src.get("version", "") for key, src in (self._data.get("sources") or {}).items()}

    def fetched_at(self) -> dict[str, tuple[dt.datetime, int]]:
        return {
            key: (dt.datetime.fromisoformat(src["fetched_at"]), src["ttl"])
            for key, src in (self._data.get("sources") or {}).items()
        }

    # -- EnrichedContext API without decoding ------------------------------------------
    @property
    def customer_id(self) -> str:
        return self._data["customer_intelligence"]["customer_id"]

    def to_dict(self) -> dict[str, Any]:
        data = dict(self._data)
        tier = self.__dict__["_tier"]
        data["cache_hit"] = self.cache_hit
        data["enrichment_latency_ms"] = self.enrichment_latency_ms
        data["sources"] = {key: {**src, "tier": tier} for key, src in (data.get("sources") or {}).items()}
        return data

    def get_summary(self) -> dict[str, Any]:
        data = self._data
        intel, health = data["customer_intelligence"], data["account_health"]
        return {
            "company_name": intel["company_name"],
            "plan": intel["plan"],
            "health_score": health["health_score"],
            "churn_risk": health["churn_risk"],
            "churn_risk_level": health["churn_risk_level"],
            "login_count_30d": data["engagement_metrics"]["login_count_30d"],
            "open_tickets": data["support_history"]["open_tickets"],
            "days_to_renewal": data["subscription_details"]["days_to_renewal"],
            "has_critical_issues": bool(health["red_flags"]),
            "has_opportunities": bool(health["green_flags"]),
            "cache_hit": self.cache_hit,
            "lifecycle": intel["lifecycle"],
        }

    def replace(self, **changes: Any) -> EnrichedContext:
        return dataclasses.replace(self.materialize(), **changes)

    def __setattr__(self, name: str, value: Any) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")

    def __repr__(self) -> str:
        return f"<LazyEnrichedContext {self.customer_id} tier={self.__dict__['_tier']}>"


for _name in _FIELDS:
    if _name not in ("cache_hit", "enrichment_latency_ms"):
        setattr(LazyEnrichedContext, _name, _lazy_field(_name))


def _plain(name: str) -> property:
    return property(lambda self: self.__dict__[name])


LazyEnrichedContext.cache_hit = _plain("cache_hit")  # type: ignore[assignment]
LazyEnrichedContext.enrichment_latency_ms = _plain("enrichment_latency_ms")  # type: ignore[assignment]
