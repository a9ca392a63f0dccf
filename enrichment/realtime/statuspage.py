"""Atlassian Statuspage: fetching its ``summary.json`` and normalising it to
the plain JSON that :mod:`enrichment.realtime.product_status` merges with our
own incidents.

Only the ``fetch_product_status`` beat task calls Statuspage (no request ever
does): the normalised summary is stored in the default cache under
``STATUSPAGE_KEY`` for ``STATUSPAGE_STALE_SECONDS``. Unresolved incidents and
in-progress maintenances become incidents (maintenances with impact
``maintenance``); they carry no plans or regions and match customers on their
components' names.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import structlog
from django.conf import settings
from django.core.cache import caches

from enrichment.vendors.base import clean_datetime
from enrichment.vendors.http import json_body, raise_for_common, send

logger = structlog.get_logger(__name__)

STATUSPAGE_KEY = "product_status:statuspage"
MAX_STATUSPAGE_ITEMS = 50


class StatuspageError(Exception):
    """Statuspage did not give a usable summary."""


# -- fetching ------------------------------------------------------------------------------------
def statuspage_summary_url(base: str) -> str:
    base = base.strip()
    if base.endswith(".json"):
        return base
    return base.rstrip("/") + "/api/v2/summary.json"


def _text(value: Any, limit: int = 300) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def _when(value: Any) -> str | None:
    parsed = clean_datetime(value)
    return parsed.isoformat() if parsed else None


def normalize_statuspage(body: Any, *, fetched_at: dt.datetime) -> dict[str, Any]:
    """The parts of a ``summary.json`` the context uses, as plain JSON.
    Unresolved incidents and in-progress maintenances become incidents
    (maintenances with impact ``maintenance``)."""
    if not isinstance(body, dict) or not isinstance(body.get("status"), dict):
        raise StatuspageError("summary.json without a status object")
    components = body.get("components") if isinstance(body.get("components"), list) else []
    names = {}
    degraded = []
    for component in components[:500]:
        if not isinstance(component, dict):
            continue
        name = _text(component.get("name"), 100)
        if isinstance(component.get("id"), str):
            names[component["id"]] = name
        if name and not component.get("group") and component.get("status") not in (None, "operational"):
            degraded.append(name)
    items: list[dict[str, Any]] = []
    sources = [(i, False) for i in body.get("incidents") or [] if isinstance(i, dict)]
    sources += [(m, True) for m in body.get("scheduled_maintenances") or [] if isinstance(m, dict)]
    for item, maintenance in sources:
        status = _text(item.get("status"), 30)
        if (maintenance and status not in ("in_progress", "verifying")) or status in ("resolved", "postmortem", "completed"):
            continue
        started = _when(item.get("started_at")) or _when(item.get("created_at")) or _when(item.get("scheduled_for"))
        title = _text(item.get("name"))
        if not title or not started:
            continue
        affected = []
        for component in item.get("components") or []:
            if isinstance(component, dict):
                affected.append(_text(component.get("name"), 100) or names.get(component.get("id"), ""))
        items.append(
            {
                "id": f"sp_{_text(item.get('id'), 60)}",
                "title": title,
                "impact": "maintenance" if maintenance else (_text(item.get("impact"), 20) or "minor"),
                "status": status or "investigating",
                "components": [c for c in affected if c],
                "plans": [],
                "regions": [],
                "started_at": started,
                "source": "statuspage",
            }
        )
        if len(items) >= MAX_STATUSPAGE_ITEMS:
            break
    status = body["status"]
    return {
        "indicator": _text(status.get("indicator"), 20) or "none",
        "description": _text(status.get("description"), 200),
        "page": _text((body.get("page") or {}).get("name") if isinstance(body.get("page"), dict) else "", 100),
        "degraded_components": sorted(set(degraded))[:50],
        "incidents": items,
        "fetched_at": fetched_at.isoformat(),
    }


def statuspage_fetch(*, now: dt.datetime) -> dict[str, Any]:
    """GET the configured ``summary.json``, normalise it and store it for
    ``STATUSPAGE_STALE_SECONDS`` (after that it is no longer shown). Raises
    :class:`StatuspageError` or a ``VendorError`` when there is no usable answer."""
    url = statuspage_summary_url(settings.STATUSPAGE_URL)
    timeout = httpx.Timeout(settings.STATUSPAGE_TIMEOUT_SECONDS)
    response = send("statuspage", "GET", url, timeout=timeout)
    raise_for_common("statuspage", response)
    if response.status_code != 200:
        raise StatuspageError(f"HTTP {response.status_code}")
    summary = normalize_statuspage(json_body("statuspage", response), fetched_at=now)
    try:
        caches["default"].set(STATUSPAGE_KEY, summary, timeout=settings.STATUSPAGE_STALE_SECONDS)
    except Exception as exc:  # noqa: BLE001
        logger.warning("product_status_cache_unavailable", operation="set", error=type(exc).__name__)
    return summary
