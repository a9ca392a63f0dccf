"""What is going on with the product right now: our own open incidents
(:class:`support.models.Incident`) merged with an optional Atlassian Statuspage
``summary.json``, and which of it touches a given customer.

The incidents are global, so they are read once and shared by every customer:

**Published state.** :func:`product_status_publish` reads the open incidents
(one query), merges the Statuspage summary that the beat task stored, and
writes the result with a content hash (its ``version``) to the default cache
(Redis: shared by every process). It runs

- after any ``Incident`` save or delete commits (:mod:`enrichment.realtime.receivers`),
- every ``PRODUCT_STATUS_REFRESH_SECONDS`` (30 s) in the ``fetch_product_status``
  beat task (:func:`product_status_refresh`), which first fetches Statuspage
  when ``STATUSPAGE_URL`` is set (:mod:`enrichment.realtime.statuspage`).

**Readers** (the provider, at request time) keep the published state in a
per-process memo for ``PRODUCT_STATUS_MEMO_SECONDS`` (5 s); a memo miss is one
Redis round trip. When nothing is published (no beat running, the embedded
default, Redis flushed) the provider reads the open incidents itself: one
small indexed query per computation. No request ever calls Statuspage.

**Versions.** Each product status section records the version it was built
from (``sources.product_status.version``). On an L2 hit the service compares it
with the published version and recomputes the section (and the flags derived
from it) when they differ, instead of waiting for its TTL.

Bounds (defaults): an incident saved through the ORM (admin, code) is in every
process's contexts within ``PRODUCT_STATUS_MEMO_SECONDS`` + ``CONTEXT_L1_TTL``
(5 s + 5 s); one written behind the ORM's back (raw SQL, ``update()``), or a
Statuspage change, within ``PRODUCT_STATUS_REFRESH_SECONDS`` more (40 s).
With nothing published, within the provider's TTL + ``CONTEXT_L1_TTL`` (60 s + 5 s).

**Which incidents touch a customer.** An incident affects a customer when all
three hold: its ``affected_plans`` is empty or holds the customer's plan; its
``affected_regions`` is empty or holds the customer's region; its
``components`` is empty or names a feature the customer used in the last 30
days (``api`` also matches a customer with API calls). Statuspage incidents
carry no plans or regions: they match on their components' names (lower case,
spaces as ``_``), and one with no component affects everyone. A Statuspage
incident with the same title as one of ours is the same incident and is dropped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

import structlog
from django.conf import settings
from django.core.cache import caches

from config.db import PlannedQuery
from enrichment.context.sections import IncidentBrief, ProductStatus
from enrichment.ops.l1 import make_l1
from enrichment.ops.metrics import record_vendor_outcome
from enrichment.realtime.statuspage import STATUSPAGE_KEY, StatuspageError, statuspage_fetch
from enrichment.vendors.http import VendorError
from support.selectors import incidents_open, incidents_open_planned

logger = structlog.get_logger(__name__)

SNAPSHOT_KEY = "product_status:published"
MAX_INCIDENTS_LISTED = 10

# Statuspage's component vocabulary, worst last.
STATUS_ORDER = ("operational", "under_maintenance", "degraded_performance", "partial_outage", "major_outage")
IMPACT_STATUS = {"none": "operational", "maintenance": "under_maintenance", "minor": "degraded_performance",
                 "major": "partial_outage", "critical": "major_outage"}  # fmt: skip
INDICATOR_STATUS = IMPACT_STATUS

# The per-process memo (an L1 cache: emptied with the others by ``enrichment.ops.l1.reset_l1``).
_MEMO = make_l1(max_entries=4, ttl=5.0)
_STATE = "state"


# -- the shared state ------------------------------------------------------------------------------
def _cache():
    return caches["default"]


def _version(incidents: list[dict[str, Any]], statuspage: Mapping[str, Any] | None) -> str:
    essence = {
        "incidents": incidents,
        "statuspage": None
        if not statuspage
        else {key: statuspage.get(key) for key in ("indicator", "description", "degraded_components")},
    }
    return hashlib.sha1(json.dumps(essence, sort_keys=True, default=str).encode()).hexdigest()[:16]  # noqa: S324 - a content tag


def _internal_incidents() -> list[dict[str, Any]]:
    return [
        {
            "id": f"inc_{row['id']}",
            "title": row["title"],
            "impact": row["impact"],
            "status": row["status"],
            "components": [str(c) for c in row["components"] or []],
            "plans": [str(p) for p in row["affected_plans"] or []],
            "regions": [str(r) for r in row["affected_regions"] or []],
            "started_at": row["started_at"].isoformat(),
            "source": "internal",
        }
        for row in incidents_open()
    ]


def build_state(statuspage: Mapping[str, Any] | None) -> dict[str, Any]:
    """Our open incidents (one query) merged with a stored Statuspage summary."""
    incidents = _internal_incidents()
    titles = {item["title"].strip().casefold() for item in incidents}
    for item in (statuspage or {}).get("incidents", []):
        if item["title"].strip().casefold() not in titles:
            incidents.append(item)
    sp = None
    if statuspage:
        sp = {key: statuspage.get(key) for key in ("indicator", "description", "degraded_components", "fetched_at")}
    return {"version": _version(incidents, sp), "incidents": incidents, "statuspage": sp}


def product_status_publish(*, statuspage: Mapping[str, Any] | None = None, fetched: bool = False) -> dict[str, Any]:
    """Rebuild the shared state from the database (and the stored Statuspage
    summary, or ``statuspage`` when ``fetched``) and publish it for every
    process. Returns the state. Cache failures are logged, never raised."""
    cache = _cache()
    previous = None
    try:
        found = cache.get_many([SNAPSHOT_KEY] if fetched else [SNAPSHOT_KEY, STATUSPAGE_KEY])
        published = found.get(SNAPSHOT_KEY)
        previous = published.get("version") if isinstance(published, dict) else None
        if not fetched:
            statuspage = found.get(STATUSPAGE_KEY)
    except Exception as exc:  # noqa: BLE001
        logger.warning("product_status_cache_unavailable", operation="get", error=type(exc).__name__)
        if not fetched:
            statuspage = None
    state = build_state(statuspage)
    timeout = max(60, int(settings.PRODUCT_STATUS_REFRESH_SECONDS) * 4)
    try:
        cache.set(SNAPSHOT_KEY, state, timeout=timeout)
    except Exception as exc:  # noqa: BLE001
        logger.warning("product_status_cache_unavailable", operation="set", error=type(exc).__name__)
    _MEMO.clear()
    # INFO only when the state changed: the beat task republishes every 30 s.
    log = logger.info if state["version"] != previous else logger.debug
    log("product_status_published", version=state["version"], incidents=len(state["incidents"]), previous=previous)
    return state


def product_status_refresh(*, now: dt.datetime) -> dict[str, Any]:
    """Fetch Statuspage (when ``STATUSPAGE_URL`` is set) and publish the merged
    incident state (the ``fetch_product_status`` beat task). A Statuspage
    failure keeps the last stored summary (until it goes stale) and still
    publishes our own incidents. Returns what happened."""
    result: dict[str, Any] = {"statuspage": "not_configured"}
    summary = None
    fetched = False
    if settings.STATUSPAGE_URL:
        try:
            summary = statuspage_fetch(now=now)
            fetched = True
            result["statuspage"] = "ok"
        except (VendorError, StatuspageError) as exc:
            result["statuspage"] = "error"
            logger.warning("statuspage_fetch_failed", error=type(exc).__name__, detail=str(exc)[:200])
        record_vendor_outcome("statuspage", result["statuspage"])
    state = product_status_publish(statuspage=summary, fetched=fetched)
    result.update(version=state["version"], incidents=len(state["incidents"]))
    return result


def _memo() -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(published state or None, stored Statuspage summary or None), from the
    memo or one Redis round trip."""
    memo = _MEMO.get(_STATE)
    if memo is not None:
        return memo
    try:
        found = _cache().get_many([SNAPSHOT_KEY, STATUSPAGE_KEY])
    except Exception as exc:  # noqa: BLE001 - the cache is down: read the database
        logger.warning("product_status_cache_unavailable", operation="get_many", error=type(exc).__name__)
        found = {}
    published = found.get(SNAPSHOT_KEY)
    memo = (published if isinstance(published, dict) else None, found.get(STATUSPAGE_KEY))
    _MEMO.set(_STATE, memo, ttl=settings.PRODUCT_STATUS_MEMO_SECONDS)
    return memo


def current_state() -> dict[str, Any]:
    """The state a computation uses: the published one, else read now."""
    published, statuspage = _memo()
    if published is not None:
        return published
    return build_state(statuspage)


def current_state_planned() -> list[PlannedQuery]:
    """The statement :func:`current_state` runs: none while a state is published."""
    published, _statuspage = _memo()
    return [] if published is not None else incidents_open_planned()


def published_version() -> str | None:
    """The published version, for checking cached sections (never queries)."""
    published, _statuspage = _memo()
    return published["version"] if published is not None else None


# -- one customer's view ----------------------------------------------------------------------------
def _norm(name: str) -> str:
    return "_".join(str(name).strip().lower().split())


def incident_affects(incident: Mapping[str, Any], *, plan: str, region: str, features: Iterable[str], api_active: bool) -> bool:
    """The matching rule in this module's docstring."""
    plans = {_norm(p) for p in incident.get("plans") or []}
    if plans and _norm(plan) not in plans:
        return False
    regions = {_norm(r) for r in incident.get("regions") or []}
    if regions and _norm(region) not in regions:
        return False
    components = {_norm(c) for c in incident.get("components") or []}
    if not components:
        return True
    used = {_norm(f) for f in features}
    if api_active:
        used.add("api")
    return bool(components & used)


def _worst(statuses: Iterable[str]) -> str:
    return max(statuses, key=lambda s: STATUS_ORDER.index(s) if s in STATUS_ORDER else 0, default="operational")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def product_status_for(
    state: Mapping[str, Any], *, plan: str, region: str, features: Iterable[str], api_active: bool, now: dt.datetime
) -> ProductStatus:
    """The product status section for one customer (pure: no I/O)."""
    features = tuple(features)
    affecting: list[IncidentBrief] = []
    others: list[IncidentBrief] = []
    for item in state.get("incidents", []):
        started = dt.datetime.fromisoformat(item["started_at"])
        if started > now:
            continue
        hits = incident_affects(item, plan=plan, region=region, features=features, api_active=api_active)
        brief = IncidentBrief(
            title=item["title"],
            impact=item["impact"],
            status=item["status"],
            started_at=started,
            affects_customer=hits,
            components=tuple(item.get("components") or ()),
            source=item.get("source", "internal"),
            id=item.get("id", ""),
        )
        (affecting if hits else others).append(brief)
    statuspage = state.get("statuspage") or {}
    indicator = statuspage.get("indicator") or ""
    status = _worst(
        [IMPACT_STATUS.get(i.impact, "degraded_performance") for i in affecting + others]
        + ([INDICATOR_STATUS.get(indicator, "operational")] if indicator else [])
    )
    parts = []
    if affecting:
        worst = _worst(IMPACT_STATUS.get(i.impact, "degraded_performance") for i in affecting).replace("_", " ")
        parts.append(f"{_plural(len(affecting), 'active incident')} affect{'s' if len(affecting) == 1 else ''} this customer ({worst}).")
    if others:
        parts.append(f"{_plural(len(others), 'other active incident')} {'does' if len(others) == 1 else 'do'} not affect them.")
    if not parts:
        parts.append("No active incidents.")
    return ProductStatus(
        status=status,
        active_incidents=tuple((affecting + others)[:MAX_INCIDENTS_LISTED]),
        incidents_affecting_customer=len(affecting),
        other_incidents=len(others),
        summary=" ".join(parts),
        statuspage_indicator=indicator,
        statuspage_description=statuspage.get("description") or "",
        degraded_components=tuple(statuspage.get("degraded_components") or ()),
    )
