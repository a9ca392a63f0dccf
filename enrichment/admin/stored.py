"""Admin for the enrichment app's stored rows (read-only: the context service
writes them) and the admin index link to the customer health dashboard.

The customer pages themselves (health columns, context panel, actions,
dashboard) live in :mod:`enrichment.admin.mixins`, mixed into ``CustomerAdmin``.
"""

from __future__ import annotations

from django.contrib import admin

from customers.admin import CappedCountPaginator
from enrichment.admin.formatting import freshness
from enrichment.history.models import CustomerHealth, HealthDaily

admin.site.index_template = "admin/enrichment_index.html"


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows derived from contexts: visible to staff, never edited by hand."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CustomerHealth)
class CustomerHealthAdmin(ReadOnlyAdmin):
    list_display = (
        "customer",
        "health_score",
        "health_label",
        "churn_risk_level",
        "red_flags",
        "yellow_flags",
        "green_flags",
        "plan",
        "mrr",
        "renewal_date",
        "computed_ago",
    )
    list_filter = ("health_label", "churn_risk_level", "plan")
    search_fields = ("=customer__external_id", "customer__company_name")
    list_select_related = ("customer",)
    ordering = ("health_score",)
    show_full_result_count = False

    @admin.display(description="Computed", ordering="computed_at")
    def computed_ago(self, obj: CustomerHealth) -> str:
        return freshness(obj.computed_at)


@admin.register(HealthDaily)
class HealthDailyAdmin(ReadOnlyAdmin):
    list_display = ("day", "customer", "health_score", "churn_risk", "red_flags")
    search_fields = ("=customer__external_id",)
    raw_id_fields = ("customer",)
    list_select_related = ("customer",)
    ordering = ("-day",)
    sortable_by = ("day",)
    show_full_result_count = False
    paginator = CappedCountPaginator
