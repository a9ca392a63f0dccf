"""The customer change list's bulk actions. Each one is thin: check, queue the
Celery task (``refresh_contexts`` in batches, or ``fetch_external_enrichment``
per customer), tell the user what happened."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from customers.models import Customer
from enrichment.admin.permissions import can_refresh
from enrichment.engine.tasks import refresh_contexts
from enrichment.vendors.tasks import fetch_external_enrichment as fetch_external_enrichment_task

VENDOR_SETTINGS = ("CLEARBIT_API_KEY", "CRUNCHBASE_API_KEY", "NEWSAPI_KEY")
REFRESH_BATCH = 100  # external ids per queued task


def _external_ids(queryset: QuerySet[Customer]) -> list[str]:
    return list(queryset.order_by("pk").values_list("external_id", flat=True))


class ContextActionsMixin:
    """``refresh_selected_contexts`` and ``fetch_external_enrichment``, allowed
    to users who may refresh contexts (``has_refresh_permission``)."""

    @admin.action(description="Refresh contexts of the selected customers", permissions=["refresh"])
    def refresh_selected_contexts(self, request: HttpRequest, queryset: QuerySet[Customer]) -> None:
        ids = _external_ids(queryset)
        batches = [ids[i : i + REFRESH_BATCH] for i in range(0, len(ids), REFRESH_BATCH)]
        results = [refresh_contexts.delay(batch) for batch in batches]
        if settings.CELERY_TASK_ALWAYS_EAGER:
            refreshed = sum(int(result.get()) for result in results)
            self.message_user(request, f"Refreshed {refreshed} of {len(ids)} contexts.", messages.SUCCESS)
        else:
            self.message_user(
                request,
                f"Queued the refresh of {len(ids)} contexts in {len(batches)} task(s); "
                "the list's health columns update as the workers finish.",
                messages.SUCCESS,
            )

    @admin.action(description="Fetch external enrichment for the selected customers", permissions=["refresh"])
    def fetch_external_enrichment(self, request: HttpRequest, queryset: QuerySet[Customer]) -> None:
        configured = [name for name in VENDOR_SETTINGS if getattr(settings, name, None)]
        if not configured:
            self.message_user(
                request,
                "No external data vendor is configured (CLEARBIT_API_KEY, CRUNCHBASE_API_KEY and NEWSAPI_KEY are "
                "unset), so nothing was fetched. Set a key in the environment to enable that vendor.",
                messages.WARNING,
            )
            return
        ids = _external_ids(queryset)
        for external_id in ids:
            fetch_external_enrichment_task.delay(external_id)
        self.message_user(
            request,
            f"Queued external enrichment for {len(ids)} customer(s) ({', '.join(configured)} configured). "
            "Only eligible accounts are looked up; results appear in the context once stored.",
            messages.SUCCESS,
        )

    def has_refresh_permission(self, request: HttpRequest) -> bool:
        return can_refresh(request.user)
