"""Admin for contacts and engagement rows. The customer page itself (health,
context panel, dashboard) is registered by ``enrichment.admin.customers``."""

from __future__ import annotations

from django.contrib import admin
from django.core.paginator import Paginator
from django.utils.functional import cached_property

from customers.models import Contact, EngagementDaily, EngagementEvent


class CappedCountPaginator(Paginator):
    """Counts at most ``COUNT_CAP`` rows, so a change list over millions of rows
    never runs a full ``COUNT(*)``. Pages past the cap are not reachable; filter instead."""

    COUNT_CAP = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by().values("pk")[: self.COUNT_CAP].count()


class ContactInline(admin.TabularInline):
    model = Contact
    fields = ("email", "name", "role")
    extra = 0
    show_change_link = True


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("email", "name", "role", "customer", "created_at")
    list_filter = ("role",)
    search_fields = ("email", "name", "customer__company_name", "customer__external_id")
    autocomplete_fields = ("customer",)
    list_select_related = ("customer",)
    readonly_fields = ("created_at",)


@admin.register(EngagementEvent)
class EngagementEventAdmin(admin.ModelAdmin):
    """Millions of rows: capped counts, no date hierarchy, index-backed ordering and exact-match search."""

    list_display = ("occurred_at", "customer", "kind", "feature", "contact")
    list_filter = ("kind",)
    search_fields = ("=customer__external_id", "=event_id")
    raw_id_fields = ("customer", "contact")
    list_select_related = ("customer", "contact")
    ordering = ("-occurred_at",)
    sortable_by = ()
    show_full_result_count = False
    paginator = CappedCountPaginator


@admin.register(EngagementDaily)
class EngagementDailyAdmin(admin.ModelAdmin):
    """Kept by database triggers on the events table: read it here, do not edit it by hand."""

    list_display = ("day", "customer", "kind", "feature", "count")
    list_filter = ("kind",)
    search_fields = ("=customer__external_id",)
    raw_id_fields = ("customer",)
    list_select_related = ("customer",)
    ordering = ("-id",)
    sortable_by = ()
    show_full_result_count = False
    paginator = CappedCountPaginator
