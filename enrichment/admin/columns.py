"""The customer change list's health columns. Each reads ``customer.health``
(the denormalised :class:`~enrichment.history.models.CustomerHealth` row, joined
by ``list_select_related``): no per-row query."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.html import format_html

from customers.models import Customer
from enrichment.admin.formatting import freshness, is_stale, label_class, renewal_text
from enrichment.history.models import CustomerHealth


def stored_health(obj: Customer) -> CustomerHealth | None:
    try:
        return obj.health  # select_related by the change list: no query
    except ObjectDoesNotExist:
        return None


class HealthColumnsMixin:
    """``list_display`` columns for ``CustomerAdmin``."""

    @admin.display(description="Customer", ordering="company_name")
    def customer(self, obj: Customer) -> str:
        return format_html('{}<span class="cc-extid">{}</span>', obj.company_name, obj.external_id)

    @admin.display(description="Health", ordering="health__health_score")
    def health_badge(self, obj: Customer) -> str:
        """The badge, and under it the account's top reason (see :meth:`top_reason`)."""
        health = stored_health(obj)
        if health is None:
            return format_html('<span class="cc-badge cc-none" title="{}">{}</span>', "No context computed yet", "not computed")
        badge = format_html(
            '<span class="cc-badge cc-{}" title="Health score {} of 100">{} · {}</span>',
            label_class(health.health_label),
            health.health_score,
            health.health_score,
            health.health_label,
        )
        return format_html("{}{}", badge, self.top_reason(obj)) if health.top_reason else badge

    @admin.display(description="Top reason")
    def top_reason(self, obj: Customer) -> str:
        """The stored first red flag (else first yellow) message, in the flag's colour."""
        health = stored_health(obj)
        if health is None or not health.top_reason:
            return ""
        level = "red" if health.red_flags else "yellow"
        return format_html('<span class="cc-reason cc-reason-{}" title="{}">{}</span>', level, health.top_reason, health.top_reason)

    @admin.display(description="Churn risk", ordering="health__churn_risk")
    def churn_level(self, obj: Customer) -> str:
        health = stored_health(obj)
        if health is None:
            return "–"
        return format_html(
            '<span class="cc-churn cc-churn-{}" title="{}">{}</span>',
            health.churn_risk_level,
            "canceled: no churn risk" if health.churn_risk is None else f"{round(health.churn_risk * 100)}%",
            health.churn_risk_level,
        )

    @admin.display(description="Plan", ordering="health__plan")
    def plan(self, obj: Customer) -> str:
        health = stored_health(obj)
        return health.plan if health is not None and health.plan else "–"

    @admin.display(description="MRR", ordering="health__mrr")
    def mrr(self, obj: Customer) -> str:
        health = stored_health(obj)
        if health is None:
            return "–"
        return format_html('<span class="cc-num">${}</span>', number_format(health.mrr, 2, force_grouping=True))

    @admin.display(description="Renewal", ordering="health__renewal_date")
    def renewal(self, obj: Customer) -> str:
        health = stored_health(obj)
        if health is None or health.renewal_date is None:
            return "–"
        text, css = renewal_text((health.renewal_date - timezone.localdate()).days)
        return format_html('<span class="cc-num {}" title="{}">{}</span>', css, health.renewal_date.isoformat(), text)

    @admin.display(description="Flags", ordering="health__red_flags")
    def flag_counts(self, obj: Customer) -> str:
        health = stored_health(obj)
        if health is None:
            return "–"
        return format_html(
            '<span class="cc-flags" title="{} red, {} yellow, {} green">'
            '<span class="cc-dot cc-dot-red{}">{}</span>'
            '<span class="cc-dot cc-dot-yellow{}">{}</span>'
            '<span class="cc-dot cc-dot-green{}">{}</span></span>',
            health.red_flags, health.yellow_flags, health.green_flags,
            "" if health.red_flags else " cc-zero", health.red_flags,
            "" if health.yellow_flags else " cc-zero", health.yellow_flags,
            "" if health.green_flags else " cc-zero", health.green_flags,
        )

    @admin.display(description="Computed", ordering="health__computed_at")
    def computed(self, obj: Customer) -> str:
        health = stored_health(obj)
        if health is None:
            return format_html('<span class="cc-stale">{}</span>', "never")
        return format_html(
            '<span class="{}" title="{}">{}</span>',
            "cc-stale" if is_stale(health.computed_at) else "cc-fresh",
            health.computed_at.isoformat(timespec="seconds"),
            freshness(health.computed_at),
        )
