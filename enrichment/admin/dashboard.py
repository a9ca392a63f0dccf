"""The customer health dashboard: label counts, red-flag renewals and the
week's biggest drops, read set-based by :mod:`enrichment.admin.selectors`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from enrichment.admin.formatting import LABEL_CLASSES, LABEL_ORDER, LABEL_PARAMS, STALE_AFTER, freshness, label_class
from enrichment.admin.selectors import (
    customer_count,
    health_computed_stats,
    health_drops,
    health_label_counts,
    latest_health_day,
    mrr_at_risk,
    red_flag_renewals,
)
from enrichment.history.selectors import context_snapshot_pairs
from enrichment.history.snapshots import drop_reasons

DROP_WINDOW = dt.timedelta(days=7)


def label_rows(by_label: dict[str, int], *, total: int) -> list[dict[str, Any]]:
    """One row per health label (known labels first, in order), then 'Not computed'."""
    labels = [
        {"label": label, "count": by_label.get(label, 0), "css": LABEL_CLASSES[label], "param": LABEL_PARAMS[label]}
        for label in LABEL_ORDER
    ]
    labels += [
        {"label": label, "count": n, "css": "none", "param": None} for label, n in by_label.items() if label not in LABEL_CLASSES
    ]
    labels.append({"label": "Not computed", "count": max(0, total - sum(by_label.values())), "css": "none", "param": "none"})
    return labels


def explain_drops(drops: list[dict[str, Any]], *, day: dt.date, since: dt.date) -> None:
    """Add ``why`` to each drop row: what changed in the stored context
    snapshots between the end of ``since`` and the end of ``day`` (flags
    raised, subscription status, ...); empty when no stored change covers
    the window (``why_note`` then says so, with the top reason now). Two queries for all the rows."""
    if not drops:
        return
    tz = timezone.get_current_timezone()
    pairs = context_snapshot_pairs(
        customer_pks=[row["customer_id"] for row in drops],
        since=dt.datetime.combine(since + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
        until=dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
    )
    for row in drops:
        before, after = pairs.get(row["customer_id"], (None, None))
        compared = before is not None and after is not None
        row["why"] = drop_reasons(before, after) if compared else []
        row["why_note"] = "" if row["why"] else _why_note(compared, row.get("customer__health__top_reason") or "")


def _why_note(compared: bool, top: str) -> str:
    """What to say when no change explains a drop: the snapshots show none, or there is none to compare."""
    note = "No flag or account change in the snapshots" if compared else "No stored snapshot from before the drop to compare with"
    return f"{note}; top reason now: {top}" if top else f"{note}."


def dashboard_data(*, today: dt.date | None = None, limit: int = 20) -> dict[str, Any]:
    """The dashboard template's data: nine set-based queries, no per-row work."""
    today = today or timezone.localdate()
    now = timezone.now()
    by_label = health_label_counts()
    total = customer_count()
    stats = health_computed_stats(stale_before=now - STALE_AFTER)
    renewals = red_flag_renewals(today=today, limit=limit)
    for row in renewals:
        row["days"] = (row["renewal_date"] - today).days
        row["css"] = label_class(row["health_label"])
    latest = latest_health_day()
    drops = [] if latest is None else health_drops(day=latest, since=latest - DROP_WINDOW, limit=limit)
    if latest is not None:
        explain_drops(drops, day=latest, since=latest - DROP_WINDOW)
    return {
        "labels": label_rows(by_label, total=total),
        "at_risk": mrr_at_risk(),
        "total": total,
        "computed": sum(by_label.values()),
        "stats": stats,
        "oldest_ago": freshness(stats["oldest"], now=now),
        "newest_ago": freshness(stats["newest"], now=now),
        "renewals": renewals,
        "drops": drops,
        "drops_day": latest,
        "drops_since": latest - DROP_WINDOW if latest else None,
        "limit": limit,
    }


class DashboardAdminMixin:
    """``dashboard_view`` for the customer ModelAdmin (its URL is added by ``get_urls``)."""

    def dashboard_view(self, request: HttpRequest) -> TemplateResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        data = dashboard_data()
        changelist = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
        for row in (*data["renewals"], *data["drops"]):
            row["url"] = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[row["customer_id"]])
        context = {
            **self.admin_site.each_context(request),
            "title": "Customer health dashboard",
            "subtitle": None,
            "opts": self.opts,
            "changelist_url": changelist,
            "media": self.media,
            "has_view_permission": True,
            **data,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "enrichment/admin/dashboard.html", context)
