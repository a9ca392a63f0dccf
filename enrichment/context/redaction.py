"""What each token scope may see: pure functions over the context's JSON.

``full`` sees everything. ``customer_facing`` (a bot that talks to the
customer) never sees revenue or churn risk, nor the health score's breakdown:

* JSON: every key in :data:`HIDDEN_KEYS` is removed wherever it occurs in the
  context (``customer_intelligence.mrr``, ``subscription_details.mrr``, a
  canceled account's ``last_mrr`` (also in the ``canceled`` flag's evidence),
  ``churn_risk`` / ``churn_risk_level`` in ``customer_intelligence`` and
  ``account_health``, ``account_health.churn_model`` (where the churn risk came
  from and its factors), top-level ``health_breakdown``, ``agent_performance``
  (support agents' names and ratings), and the same names inside flag
  evidence), and from the summary (``churn_risk``, ``churn_risk_level``);
* prompt: the block is rendered with :data:`PROMPT_HIDE`, so it has no
  ``MRR:`` and no ``Churn Risk:`` line.

Extension sections (providers with a section of their own, see
:mod:`enrichment.context.registry`) are internal unless their provider sets
``customer_facing = True``: for the ``customer_facing`` scope an internal one is
removed from the JSON with its ``sources`` and ``degraded`` entries, and the
prompt renderer leaves it out whenever ``hide`` is not empty. A section nobody
registered (e.g. still in a cache entry after its provider was removed) counts
as internal. Hidden keys are removed inside customer-facing sections too.
"""

from __future__ import annotations

from typing import Any

from enrichment.context.registry import BUILTIN_SECTIONS, extension_sections
from enrichment.context.scopes import TokenScope

# The renderer's names (enrichment.context.prompt.HIDEABLE) for what a customer-facing bot may not see.
PROMPT_HIDE: frozenset[str] = frozenset({"mrr", "revenue", "churn_risk", "health_breakdown"})

# JSON keys removed for the customer-facing scope, wherever they occur.
# ``agent_performance``: support agents' names and ratings are internal.
HIDDEN_KEYS: frozenset[str] = frozenset(
    {"mrr", "last_mrr", "revenue", "arr", "churn_risk", "churn_risk_level", "churn_model", "health_breakdown", "breakdown"}
    | {"agent_performance"}
)


def is_restricted(scope: str) -> bool:
    return scope != TokenScope.FULL


def prompt_hide_for(scope: str) -> frozenset[str]:
    """The ``hide`` argument of ``EnrichedContext.to_prompt_context`` for a scope."""
    return PROMPT_HIDE if is_restricted(scope) else frozenset()


def hidden_key(key: str) -> bool:
    lowered = key.lower()
    return lowered in HIDDEN_KEYS or lowered.startswith(("mrr_", "churn_risk")) or "revenue" in lowered


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _strip(item) for key, item in value.items() if not hidden_key(str(key))}
    if isinstance(value, list):
        return [_strip(item) for item in value]
    return value


def internal_sections(data: dict[str, Any]) -> set[str]:
    """The extension sections of a context's JSON that a restricted scope may
    not see: those in ``sources`` or registered that are neither built-in nor
    declared ``customer_facing``. Empty for JSON without ``sources`` (not a context)."""
    sources = data.get("sources")
    if not isinstance(sources, dict):
        return set()
    specs = extension_sections()
    return {
        key
        for key in sources.keys() | specs.keys()
        if key not in BUILTIN_SECTIONS and not (key in specs and specs[key].customer_facing)
    }


def redact_context(data: dict[str, Any], *, scope: str) -> dict[str, Any]:
    """The context JSON (``EnrichedContext.to_dict()``) as a scope may see it.
    Returns a new dict for a restricted scope, the same one otherwise."""
    if not is_restricted(scope):
        return data
    internal = internal_sections(data)
    if internal:
        data = {key: value for key, value in data.items() if key not in internal}
        data["sources"] = {key: value for key, value in data["sources"].items() if key not in internal}
        if isinstance(data.get("degraded"), list):
            data["degraded"] = [item for item in data["degraded"] if not (isinstance(item, dict) and item.get("section") in internal)]
    return _strip(data)


def redact_summary(summary: dict[str, Any], *, scope: str) -> dict[str, Any]:
    """The seed's summary as a scope may see it: ``churn_risk`` and
    ``churn_risk_level`` are removed for the customer-facing scope."""
    if not is_restricted(scope):
        return summary
    return {key: value for key, value in summary.items() if not hidden_key(key)}
