"""The customer change list and change page: health columns, filters, search,
actions, the context panel and the dashboard."""

from __future__ import annotations

from django.contrib import admin

from customers.admin import ContactInline
from customers.models import Customer
from enrichment.admin.mixins import CustomerContextAdminMixin
from enrichment.admin.selectors import urgency_ordering


@admin.register(Customer)
class CustomerAdmin(CustomerContextAdminMixin, admin.ModelAdmin):
    """Health columns, filters, search, actions, the context panel and the
    dashboard come from :class:`CustomerContextAdminMixin`;
    every health column reads ``customer.health`` (one join, no per-row query),
    and so does the default order by urgency."""

    list_display = (
        "customer",
        "health_badge",
        "churn_level",
        "plan",
        "mrr",
        "renewal",
        "flag_counts",
        "computed",
    )
    list_display_links = ("customer",)
    list_select_related = ("health",)
    list_filter = (*CustomerContextAdminMixin.health_list_filter, "region", "industry")
    # Searched by get_search_results: these three plus contact email (an id IN subquery).
    search_fields = ("company_name", "domain", "external_id")
    show_full_result_count = False
    readonly_fields = ("created_at", "updated_at")
    # Most urgent first (Critical, red flags, At Risk; soonest renewal within each):
    # see urgency_ordering. A column header click sorts by that column instead.
    ordering = urgency_ordering()
    inlines = (ContactInline,)
    actions = ("refresh_selected_contexts", "fetch_external_enrichment")
