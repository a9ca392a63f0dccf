from __future__ import annotations

from django.contrib import admin

from billing.models import Invoice, Plan, Subscription


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "tier", "monthly_price_per_seat")
    search_fields = ("code", "name")
    ordering = ("tier", "code")


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = (
        "customer",
        "plan",
        "status",
        "billing_cycle",
        "seats_used",
        "seats_purchased",
        "mrr",
        "started_at",
        "renewal_date",
        "trial_ends_at",
    )
    list_filter = ("status", "billing_cycle", "plan")
    search_fields = ("customer__company_name", "customer__external_id", "customer__domain")
    autocomplete_fields = ("customer",)
    list_select_related = ("customer", "plan")
    date_hierarchy = "renewal_date"
    readonly_fields = ("created_at", "updated_at")


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ("number", "customer", "amount", "status", "issued_at", "due_at", "paid_at")
    list_filter = ("status",)
    search_fields = ("number", "customer__company_name", "customer__external_id")
    autocomplete_fields = ("customer",)
    raw_id_fields = ("subscription",)
    list_select_related = ("customer",)
    date_hierarchy = "issued_at"
