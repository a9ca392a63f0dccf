from __future__ import annotations

from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from support.models import Incident, Ticket


def customer_page_for_ticket(ticket: Ticket) -> str:
    """A link to the ticket's customer page opened for answering it
    (``?ticket=<id>``: the requester and the ticket come first there)."""
    if ticket.pk is None or ticket.customer_id is None:
        return "–"
    try:
        url = reverse("admin:customers_customer_change", args=[ticket.customer_id])
    except NoReverseMatch:  # customers not registered in this admin site
        return "–"
    return format_html('<a href="{}?{}" class="cc-answer-link">Customer context</a>', url, urlencode({"ticket": ticket.pk}))


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "subject",
        "customer",
        "status",
        "priority",
        "category",
        "channel",
        "created_at",
        "first_response_at",
        "resolved_at",
        "csat",
        "assignee",
        "context_link",
    )
    list_display_links = ("id", "subject")
    readonly_fields = ("context_link",)
    list_filter = ("status", "priority", "channel", "category", "csat")
    search_fields = ("subject", "customer__company_name", "customer__external_id", "contact__email")
    autocomplete_fields = ("customer", "contact", "assignee")
    list_select_related = ("customer", "assignee")
    date_hierarchy = "created_at"

    @admin.display(description="Context")
    def context_link(self, obj: Ticket) -> str:
        return customer_page_for_ticket(obj)


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "impact",
        "status",
        "components",
        "affected_plans",
        "affected_regions",
        "started_at",
        "resolved_at",
    )
    list_filter = ("status", "impact")
    search_fields = ("title",)
    date_hierarchy = "started_at"
