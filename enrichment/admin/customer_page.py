"""The customer change page: the context panel above the change form, and the
refresh / invalidate buttons (POST views that call the context service once).

Everything about a customer's context comes from one call,
``get_context_service().enrich_context(external_id)``: the admin renders the
same :class:`~enrichment.context.enriched.EnrichedContext` an agent receives and
runs no queries of its own for it.
"""

from __future__ import annotations

from typing import Any

import structlog
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from customers.models import Customer
from enrichment.admin.charts import trend_chart
from enrichment.admin.first_screen import changes_card, conversation_card, open_ticket_rows, page_conversation, top_reasons
from enrichment.admin.panel import panel_context, panel_error
from enrichment.admin.permissions import can_refresh
from enrichment.admin.selectors import health_trend
from enrichment.context.exceptions import ContextEnrichmentError
from enrichment.engine.service import get_context_service
from enrichment.engine.services import context_invalidate
from enrichment.history.snapshots import context_changes, snapshot_timeline

logger = structlog.get_logger(__name__)


def context_panel(request: HttpRequest, customer: Customer, *, change_url: str) -> dict[str, Any]:
    """Everything the panel template needs, from one ``enrich_context`` call
    (plus one query for the 12-week trend, one for the changes timeline, a
    few for the changes since the last contact, and the requester/ticket
    parts when the page was opened with ``?ticket=`` or ``?contact=``)."""
    trend = trend_chart(health_trend(customer_pk=customer.pk, today=timezone.localdate()))
    try:
        context = get_context_service().enrich_context(customer.external_id)
    except ContextEnrichmentError as exc:
        return panel_error(str(exc), trend=trend, can_refresh=can_refresh(request.user))
    except Exception as exc:  # the change form must stay usable whatever the service does
        logger.exception("admin_context_failed", customer_id=customer.external_id)
        message = f"the context could not be computed ({type(exc).__name__})"
        return panel_error(message, trend=trend, can_refresh=can_refresh(request.user))
    now = timezone.now()
    panel = panel_context(
        context,
        trend=trend,
        can_refresh=can_refresh(request.user),
        timeline=snapshot_timeline(customer_pk=customer.pk),
    )
    asked = page_conversation(params=request.GET, customer_external_id=customer.external_id)
    panel["first"] = {
        "reasons": top_reasons(context),
        "open": open_ticket_rows(context, now=now, change_url=change_url),
        "changes": changes_card(context_changes(context, customer_pk=customer.pk, since_last_contact=True)),
        "conversation": conversation_card(asked, now=now, change_url=change_url),
    }
    return panel


class CustomerPageMixin:
    """The context panel on the change form and the two POST views behind its buttons."""

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and not add:
            change_url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])
            context["cc"] = context_panel(request, obj, change_url=change_url)
            context["cc_refresh_url"] = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_context_refresh", args=[obj.pk])
            context["cc_invalidate_url"] = reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_context_invalidate", args=[obj.pk]
            )
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def context_refresh_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return require_POST(self._context_refresh)(request, object_id)

    def context_invalidate_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return require_POST(self._context_invalidate)(request, object_id)

    def _customer_for_write(self, request: HttpRequest, object_id: str) -> Customer:
        if not can_refresh(request.user):
            raise PermissionDenied
        customer = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_view_or_change_permission(request, customer):
            raise PermissionDenied
        return customer

    def _back(self, request: HttpRequest, customer: Customer) -> HttpResponse:
        return HttpResponseRedirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[customer.pk]))

    def _context_refresh(self, request: HttpRequest, object_id: str) -> HttpResponse:
        customer = self._customer_for_write(request, object_id)
        try:
            context = get_context_service().enrich_context(customer.external_id, force_refresh=True)
        except ContextEnrichmentError as exc:
            self.message_user(request, f"Refresh failed: {exc}", messages.ERROR)
        else:
            health = context.account_health
            self.message_user(
                request,
                f"Context refreshed: health {health.health_score} ({health.health_label}), "
                f"computed in {context.enrichment_latency_ms:.0f} ms.",
                messages.SUCCESS,
            )
        return self._back(request, customer)

    def _context_invalidate(self, request: HttpRequest, object_id: str) -> HttpResponse:
        customer = self._customer_for_write(request, object_id)
        try:
            done = context_invalidate(customer_id=customer.external_id)
        except ContextEnrichmentError as exc:
            self.message_user(request, f"Invalidation failed: {exc}", messages.ERROR)
        else:
            if not done:
                self.message_user(
                    request, "The shared cache is unreachable: the invalidation is recorded and applied when it answers.", messages.WARNING
                )
                return self._back(request, customer)
            self.message_user(
                request,
                "Cached context dropped from the shared cache; other processes drop their in-process copy within "
                f"{settings.CONTEXT_L1_TTL:g} s. This page computed it again.",
                messages.SUCCESS,
            )
        return self._back(request, customer)
