"""The context panel at the top of the customer page, as template data.

Pure presentation of an :class:`~enrichment.context.enriched.EnrichedContext`
(the same object an agent receives) plus the trend chart and changes timeline
the caller read: no queries and no service calls here.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from enrichment.admin.charts import TrendChart, sparkline
from enrichment.admin.first_screen import ticket_admin_url
from enrichment.admin.formatting import factor_name, freshness, label_class
from enrichment.context.enriched import EnrichedContext
from enrichment.context.lifecycle import churn_band, churn_phrase, mrr_phrase, renewal_phrase, trial_phrase
from enrichment.context.registry import section_spec

TIER_NAMES = {"l1": "L1 (in-process)", "l2": "L2 (shared cache)", "computed": "computed"}
SECTION_TITLES = {
    "customer_intelligence": "Customer",
    "engagement_metrics": "Engagement",
    "support_history": "Support history",
    "subscription_details": "Subscription",
    "account_health": "Account health",
    "company_enrichment": "Company enrichment",
    "product_status": "Product status",
    "current_activity": "Current activity",
    "agent_performance": "Agent performance",
}


def panel_error(message: str, *, trend: TrendChart | None, can_refresh: bool) -> dict[str, Any]:
    """The panel when no context could be had: the message, the trend, the refresh button."""
    return {"error": message, "trend": trend, "can_refresh": can_refresh}


def panel_context(
    context: EnrichedContext, *, trend: TrendChart | None, can_refresh: bool, timeline: list[dict[str, Any]]
) -> dict[str, Any]:
    """Everything the panel template needs about one customer's context."""
    health = context.account_health
    degraded = {d.section: d.reason for d in context.degraded}
    return {
        "ctx": context,
        "health": health,
        "label_class": label_class(health.health_label),
        "flags": _flags(context),
        "breakdown": _breakdown(context),
        "breakdown_total": round(sum(f.points for f in health.breakdown), 1),
        "degraded": degraded,
        "degraded_titles": [(_title(k), v) for k, v in degraded.items()],
        "logins": sparkline(
            list(context.engagement_metrics.daily_logins_30d), end=(context.enriched_at or timezone.now()).date()
        ),
        "trend": trend,
        "sources": _sources(context, degraded),
        "tier": _tier(context),
        "computed_ago": freshness(context.enriched_at),
        "prompt": context.to_prompt_context(),
        "seat_pct": round(context.subscription_details.seat_utilization * 100),
        "lifecycle": _lifecycle(context),
        "can_refresh": can_refresh,
        "tickets": [{"ticket": t, "url": ticket_admin_url(t.id)} for t in context.support_history.recent_tickets],
        "timeline": timeline,
        "extensions": _extensions(context, degraded),
    }


def _lifecycle(context: EnrichedContext) -> dict[str, Any]:
    """The lifecycle phrases of the prompt block (enrichment.context.lifecycle)."""
    intel, sub, health = context.customer_intelligence, context.subscription_details, context.account_health
    return {
        "state": intel.lifecycle,
        "mrr": mrr_phrase(intel.mrr, intel.last_mrr),
        "churn": churn_phrase(health.churn_risk, health.churn_risk_level),
        "churn_band": churn_band(health.churn_risk) if health.churn_risk is not None else "",
        "renewal": renewal_phrase(sub),
        "trial": trial_phrase(sub),
        "renewal_class": _renewal_class(sub.days_to_renewal),
    }


def _renewal_class(days: int | None) -> str:
    if days is None:
        return ""
    return "cc-renew-now" if days <= 7 else "cc-renew-soon" if days <= 30 else ""


def _extensions(context: EnrichedContext, degraded: dict[str, str]) -> list[dict[str, Any]]:
    """One card per extension section (a provider added in settings), with the
    label/value rows its provider renders for the admin."""
    cards = []
    for key, section in context.extensions.items():
        spec = section_spec(key)
        if spec is None:  # left in a cached context by a provider since removed
            continue
        rows = [(str(label), _plain(value)) for label, value in spec.admin_rows(section)] if spec.admin_rows else []
        cards.append({"key": key, "title": spec.title, "rows": rows, "degraded": degraded.get(key)})
    return cards


def _flags(context: EnrichedContext) -> dict[str, list[dict[str, Any]]]:
    """Flags grouped by level (red, yellow, green first), each with readable evidence."""
    flags: dict[str, list[dict[str, Any]]] = {"red": [], "yellow": [], "green": []}
    for flag in context.account_health.flags:
        flags.setdefault(flag.level, []).append({"flag": flag, "evidence": _evidence(flag.evidence)})
    return flags


def _breakdown(context: EnrichedContext) -> list[dict[str, Any]]:
    """The health score's factors with a display name and the share of their weight earned."""
    return [
        {
            "factor": factor,
            "label": factor_name(factor.factor),
            "pct": round(100 * factor.points / factor.weight) if factor.weight else 0,
        }
        for factor in context.account_health.breakdown
    ]


def _sources(context: EnrichedContext, degraded: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {"key": key, "title": _title(key), "src": src, "degraded": degraded.get(key)}
        for key, src in sorted(context.sources.items())
    ]


def _title(key: str) -> str:
    if key in SECTION_TITLES:
        return SECTION_TITLES[key]
    spec = section_spec(key)
    return spec.title if spec is not None else key


def _evidence(evidence: dict[str, Any]) -> list[tuple[str, str]]:
    return [(key.replace("_", " "), _plain(value)) for key, value in evidence.items()]


def _plain(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v) for v in value)
    return str(value)


def _tier(context: EnrichedContext) -> str:
    """Which cache tier answered: L1 (this process), L2 (the shared cache), computed, or a mix."""
    tiers = sorted({src.tier for src in context.sources.values()}) or ["computed"]
    return " + ".join(TIER_NAMES.get(tier, tier) for tier in tiers)
