"""How the admin words and colours health: label classes, freshness, renewal
text. Pure presentation: values in, strings out, no queries."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

LABEL_CLASSES = {"Good": "good", "Fair": "fair", "At Risk": "risk", "Critical": "critical"}
LABEL_ORDER = ("Good", "Fair", "At Risk", "Critical")
LABEL_PARAMS = {"Good": "good", "Fair": "fair", "At Risk": "at_risk", "Critical": "critical"}
STALE_AFTER = dt.timedelta(days=1)
FACTOR_NAMES = {"csat": "CSAT"}


def factor_name(factor: str) -> str:
    """A health factor's display name: ``login_trend`` -> "Login trend", ``csat`` -> "CSAT"."""
    return FACTOR_NAMES.get(factor, factor.replace("_", " ").capitalize())


def label_class(label: str) -> str:
    """The CSS suffix of a health label's badge (``cc-good`` ...); ``none`` for an unknown label."""
    return LABEL_CLASSES.get(label, "none")


def freshness(when: dt.datetime | None, *, now: dt.datetime | None = None) -> str:
    """'just now', '4 min ago', '3 h ago', '2 d ago'."""
    if when is None:
        return "never"
    seconds = max(0, int(((now or timezone.now()) - when).total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 48 * 3600:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} d ago"


def is_stale(computed_at: dt.datetime, *, now: dt.datetime | None = None) -> bool:
    """A stored health row older than :data:`STALE_AFTER`."""
    return (now or timezone.now()) - computed_at > STALE_AFTER


def renewal_text(days: int) -> tuple[str, str]:
    """The renewal column's text and CSS class for a renewal ``days`` away (negative: passed)."""
    if days < 0:
        return f"{-days} d ago", "cc-renew-past"
    text = "today" if days == 0 else f"in {days} d"
    if days <= 7:
        return text, "cc-renew-now"
    if days <= 30:
        return text, "cc-renew-soon"
    return text, ""
