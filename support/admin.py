from __future__ import annotations

from django.contrib import admin

from support.models import Incident, Ticket


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
    )
    list_display_links = ("id", "subject")
    list_filter = ("status", "priority", "channel", "category", "csat")
    search_fields = ("subject", "customer__company_name", "customer__external_id", "contact__email")
    autocomplete_fields = ("customer", "contact", "assignee")
    list_select_related = ("customer", "assignee")
    date_hierarchy = "created_at"


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
