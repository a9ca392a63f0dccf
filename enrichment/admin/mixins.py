""":class:`CustomerContextAdminMixin`: what the enrichment service adds to
``CustomerAdmin`` (:mod:`enrichment.admin.customers`): health columns and
filters, search by contact email, the bulk actions, the context panel with its
refresh/invalidate buttons, and the health dashboard, with their URLs.

The list and the dashboard read the denormalised
:class:`~enrichment.history.models.CustomerHealth` and
:class:`~enrichment.history.models.HealthDaily` rows that the context service
writes whenever it computes a context.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import URLPattern, path

from customers.models import Customer
from enrichment.admin.actions import ContextActionsMixin
from enrichment.admin.columns import HealthColumnsMixin
from enrichment.admin.customer_page import CustomerPageMixin
from enrichment.admin.dashboard import DashboardAdminMixin
from enrichment.admin.filters import ChurnRiskFilter, HealthLabelFilter, PlanFilter, RedFlagsFilter, RenewalFilter
from enrichment.admin.selectors import customer_search


class CustomerContextAdminMixin(HealthColumnsMixin, ContextActionsMixin, CustomerPageMixin, DashboardAdminMixin):
    """Health columns, filters, search, actions, context panel and dashboard
    for ``CustomerAdmin``. The host class sets ``list_display`` etc."""

    health_list_filter = (HealthLabelFilter, ChurnRiskFilter, PlanFilter, RedFlagsFilter, RenewalFilter)
    change_form_template = "admin/customers/customer/change_form.html"
    change_list_template = "admin/customers/customer/change_list.html"
    search_help_text = "Company name, domain, external id, or a contact's email."

    class Media:
        css = {"all": ("enrichment/admin.css",)}

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Customer], search_term: str
    ) -> tuple[QuerySet[Customer], bool]:
        """See :func:`~enrichment.admin.selectors.customer_search`: never duplicates rows."""
        term = search_term.strip()
        if not term:
            return queryset, False
        return customer_search(queryset=queryset, term=term), False

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        wrap = self.admin_site.admin_view
        urls = [
            path("dashboard/", wrap(self.dashboard_view), name="{}_{}_dashboard".format(*info)),
            path("<path:object_id>/context/refresh/", wrap(self.context_refresh_view), name="{}_{}_context_refresh".format(*info)),
            path(
                "<path:object_id>/context/invalidate/",
                wrap(self.context_invalidate_view),
                name="{}_{}_context_invalidate".format(*info),
            ),
        ]
        return urls + super().get_urls()
