"""Change-list filters over the denormalised :class:`CustomerHealth` row
(``customer.health``): index-backed, no enrichment, no per-row work."""

from __future__ import annotations

import datetime as dt

from django.contrib import admin
from django.db.models import Q
from django.utils import timezone

from enrichment.admin.selectors import plan_choices

HEALTH_LABELS = {"good": "Good", "fair": "Fair", "at_risk": "At Risk", "critical": "Critical"}


class HealthLabelFilter(admin.SimpleListFilter):
    title = "health"
    parameter_name = "health"

    def lookups(self, request, model_admin):
        return [
            *HEALTH_LABELS.items(),
            ("attention", "At Risk or Critical"),
            ("none", "Not computed"),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value in HEALTH_LABELS:
            return queryset.filter(health__health_label=HEALTH_LABELS[value])
        if value == "attention":
            return queryset.filter(health__health_label__in=[HEALTH_LABELS["at_risk"], HEALTH_LABELS["critical"]])
        if value == "none":
            return queryset.filter(health__isnull=True)
        return queryset


class ChurnRiskFilter(admin.SimpleListFilter):
    title = "churn risk"
    parameter_name = "churn"

    def lookups(self, request, model_admin):
        return [("high", "High"), ("medium", "Medium"), ("low", "Low"), ("churned", "Churned (canceled)")]

    def queryset(self, request, queryset):
        if self.value() in ("high", "medium", "low", "churned"):
            return queryset.filter(health__churn_risk_level=self.value())
        return queryset


class PlanFilter(admin.SimpleListFilter):
    """The plan as of the last computed context (one query over the small plan table)."""

    title = "plan"
    parameter_name = "plan"

    def lookups(self, request, model_admin):
        return plan_choices()

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(health__plan=self.value())
        return queryset


class RedFlagsFilter(admin.SimpleListFilter):
    title = "red flags"
    parameter_name = "red_flags"

    def lookups(self, request, model_admin):
        return [("yes", "Has red flags"), ("no", "No red flags")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(health__red_flags__gt=0)
        if self.value() == "no":
            return queryset.filter(health__red_flags=0)
        return queryset


class RenewalFilter(admin.SimpleListFilter):
    title = "renewal"
    parameter_name = "renewal"

    def lookups(self, request, model_admin):
        return [("7", "Within 7 days"), ("30", "Within 30 days"), ("90", "Within 90 days"), ("passed", "Date passed")]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        value = self.value()
        if value in ("7", "30", "90"):
            window = Q(health__renewal_date__gte=today, health__renewal_date__lte=today + dt.timedelta(days=int(value)))
            return queryset.filter(window)
        if value == "passed":
            return queryset.filter(health__renewal_date__lt=today)
        return queryset
