"""Admin for contacts and engagement rows. The customer page itself (health,
context panel, dashboard) is registered by ``enrichment.admin.customers``."""

from __future__ import annotations

from django.contrib import admin
from django.core.paginator import Paginator
from django.urls import NoReverseMatch, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.http import urlencode

from customers.models import Contact, EngagementDaily, EngagementEvent, EventPartitionDrop


class CappedCountPaginator(Paginator):
    """Counts at most ``COUNT_CAP`` rows, so a change list over millions of rows
    never runs a full ``COUNT(*)``. Pages past the cap are not reachable; filter instead."""

    COUNT_CAP = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by().values("pk")[: self.COUNT_CAP].count()


def customer_page_for_contact(contact: Contact) -> str:
    """A link to the contact's customer page opened with them as the
    requester (``?contact=<email>``: who is asking comes first there)."""
    if contact.pk is None or not contact.email:
        return "–"
    try:
        url = reverse("admin:customers_customer_change", args=[contact.customer_id])
    except NoReverseMatch:  # customers not registered in this admin site
        return "–"
    return format_html('<a href="{}?{}" class="cc-requester-link">As requester</a>', url, urlencode({"contact": contact.email}))


class ContactContextLinkMixin:
    @admin.display(description="Customer context")
    def context_link(self, obj: Contact) -> str:
        return customer_page_for_contact(obj)


class ContactInline(ContactContextLinkMixin, admin.TabularInline):
    model = Contact
    fields = ("email", "name", "role", "context_link")
    readonly_fields = ("context_link",)
    extra = 0
    show_change_link = True


@admin.register(Contact)
class ContactAdmin(ContactContextLinkMixin, admin.ModelAdmin):
    list_display = ("email", "name", "role", "customer", "created_at", "context_link")
    list_filter = ("role",)
    search_fields = ("email", "name", "customer__company_name", "customer__external_id")
    autocomplete_fields = ("customer",)
    list_select_related = ("customer",)
    readonly_fields = ("created_at", "context_link")


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


@admin.register(EventPartitionDrop)
class EventPartitionDropAdmin(admin.ModelAdmin):
    """The raw events' monthly partitions the retention dropped (the daily rollup keeps those months). Read only."""

    list_display = ("name", "range_start", "range_end", "rows", "dropped_at")
    ordering = ("-range_start",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
