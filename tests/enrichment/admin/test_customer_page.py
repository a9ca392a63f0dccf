"""The customer page (context panel), its refresh/invalidate buttons, the
actions and the permissions, against the demo seed (customer_123, customer_at_risk)."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.test import TestCase, override_settings

from customers.models import Customer
from enrichment.context.exceptions import ContextEnrichmentError
from enrichment.context.sections import EngagementMetrics
from enrichment.engine.service import ContextEnrichmentService, get_context_service
from enrichment.history.models import CustomerHealth
from enrichment.providers.base import ContextProvider
from enrichment.providers.registry import load_providers
from tests.enrichment.admin.conftest import CHANGELIST, change_url, staff_user
from tests.support.factories import TicketFactory


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


class SeededAdminTests(TestCase):
    """One seed per class (``setUpTestData``), rolled back at the end."""

    @classmethod
    def setUpTestData(cls):
        call_command("seed_demo", customers=12, stdout=StringIO())
        cls.acme = Customer.objects.get(external_id="customer_123")
        cls.globex = Customer.objects.get(external_id="customer_at_risk")
        cls.superuser = get_user_model().objects.get(username="admin")
        cls.viewer = staff_user("viewer", "customers.view_customer", "customers.view_contact")
        cls.changer = staff_user("changer", "customers.view_customer", "customers.change_customer")
        cls.nobody = staff_user("nobody")

    # -- permissions ------------------------------------------------------------------
    def test_anonymous_is_sent_to_the_login_page(self):
        for url in (CHANGELIST, change_url(self.acme), f"{CHANGELIST}dashboard/"):
            response = self.client.get(url)
            assert response.status_code == 302
            assert response["Location"].startswith("/admin/login/?next=")
        response = self.client.post(f"{CHANGELIST}{self.acme.pk}/context/refresh/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"]

    def test_staff_without_permissions_sees_nothing(self):
        self.client.force_login(self.nobody)
        assert self.client.get(CHANGELIST).status_code == 403
        assert self.client.get(f"{CHANGELIST}dashboard/").status_code == 403
        assert self.client.get(change_url(self.acme)).status_code == 403

    def test_view_only_staff_can_see_but_not_refresh_or_invalidate(self):
        self.client.force_login(self.viewer)
        listing = self.client.get(CHANGELIST)
        assert listing.status_code == 200
        form = listing.context["action_form"]  # None: no action at all is available
        actions = [] if form is None else [name for name, _ in form.fields["action"].choices]
        assert "refresh_selected_contexts" not in actions
        assert "fetch_external_enrichment" not in actions
        assert self.client.get(f"{CHANGELIST}dashboard/").status_code == 200

        page = self.client.get(change_url(self.acme))
        assert page.status_code == 200
        html = page.content.decode()
        assert "Acme Corp" in html and 'id="cc-context"' in html
        assert 'id="cc-refresh-btn"' not in html and 'id="cc-invalidate-btn"' not in html
        assert 'id="cc-copy-btn"' in html  # reading is allowed

        before = CustomerHealth.objects.get(customer=self.acme).computed_at
        assert self.client.post(f"{CHANGELIST}{self.acme.pk}/context/refresh/").status_code == 403
        assert self.client.post(f"{CHANGELIST}{self.acme.pk}/context/invalidate/").status_code == 403
        assert CustomerHealth.objects.get(customer=self.acme).computed_at == before

    def test_superuser_refreshes_the_context(self):
        self.client.force_login(self.superuser)
        before = CustomerHealth.objects.get(customer=self.acme).computed_at
        response = self.client.post(f"{CHANGELIST}{self.acme.pk}/context/refresh/")
        assert response.status_code == 302 and response["Location"] == change_url(self.acme)
        assert any(m.startswith("Context refreshed: health 85 (Good)") for m in _messages(response))
        assert CustomerHealth.objects.get(customer=self.acme).computed_at > before

    def test_superuser_invalidates_the_cached_context(self):
        self.client.force_login(self.superuser)
        service = get_context_service()
        service.enrich_context("customer_123")
        assert service.cache.get_l2("customer_123")[0] is not None
        response = self.client.post(f"{CHANGELIST}{self.acme.pk}/context/invalidate/")
        assert response.status_code == 302
        assert service.cache.get_l2("customer_123")[0] is None
        assert any("Cached context dropped" in m for m in _messages(response))

    def test_a_user_allowed_to_change_customers_can_refresh(self):
        self.client.force_login(self.changer)
        response = self.client.post(f"{CHANGELIST}{self.globex.pk}/context/refresh/")
        assert response.status_code == 302
        assert 'id="cc-refresh-btn"' in self.client.get(change_url(self.globex)).content.decode()

    def test_refresh_and_invalidate_are_post_only(self):
        self.client.force_login(self.superuser)
        assert self.client.get(f"{CHANGELIST}{self.acme.pk}/context/refresh/").status_code == 405
        assert self.client.get(f"{CHANGELIST}{self.acme.pk}/context/invalidate/").status_code == 405

    def test_refresh_requires_the_csrf_token(self):
        from django.test import Client

        client = Client(enforce_csrf_checks=True)
        client.force_login(self.superuser)
        assert client.post(f"{CHANGELIST}{self.acme.pk}/context/refresh/").status_code == 403

    # -- content ----------------------------------------------------------------------------
    def test_customer_123_page_renders_the_context(self):
        self.client.force_login(self.superuser)
        html = self.client.get(change_url(self.acme)).content.decode()
        assert "Acme Corp" in html
        assert re.search(r'id="cc-health-badge">\s*85 · Good', html)
        green = re.findall(r'<li class="cc-flag-green" data-flag-code="([a-z_]+)"', html)
        assert sorted(green) == ["high_csat", "high_engagement"]
        assert "High engagement - upsell opportunity" in html
        assert "High CSAT scores - ask for referral" in html
        assert 'class="cc-flag-red"' not in html
        assert re.search(r'<svg class="cc-chart cc-sparkline" id="cc-logins-sparkline"', html)
        assert html.count('class="cc-spark-hit"') == 30  # one point per day
        assert re.search(r'<svg class="cc-chart cc-trend" id="cc-trend-chart"', html)
        assert html.count('class="cc-trend-dot"') == 12  # 12 weekly points
        assert 'id="cc-copy-btn"' in html and "Copy prompt block" in html and "navigator.clipboard" in html
        assert "&lt;customer_context&gt;" in html and "Health Score: 85/100 (Good)" in html
        assert 'id="cc-refresh-btn"' in html and 'id="cc-invalidate-btn"' in html
        assert "csrfmiddlewaretoken" in html
        assert "Context computed" in html and 'id="cc-tier"' in html
        assert "How do I export a project timeline to PDF?" in html  # the latest ticket
        assert "Seats" in html and "8 / 10 (80%)" in html
        assert "<script src=" not in html.split('id="cc-context"')[1].split("</section>")[0]

    def test_a_canceled_account_says_so_like_the_prompt(self):
        churned = Customer.objects.get(external_id="cust_000004")  # the demo's first churned archetype
        self.client.force_login(self.superuser)
        html = self.client.get(change_url(churned)).content.decode()
        ctx = get_context_service().enrich_context("cust_000004")
        intel = ctx.customer_intelligence
        assert (intel.lifecycle, intel.churn_risk, intel.churn_risk_level) == ("canceled", None, "churned")
        assert 'id="cc-lifecycle">canceled<' in html
        assert re.search(r'id="cc-churn"[^>]*>.*churned</span> n/a \(canceled\)', html)
        assert f'id="cc-mrr">$0.00 (canceled; last MRR ${intel.last_mrr:,.2f})<' in html
        assert "(none (canceled))" in html
        assert f'id="cc-canceled">{intel.canceled_at.isoformat()}<' in html
        assert f"Canceled on {intel.canceled_at.isoformat()}" in html
        assert "Churn Risk: n/a (canceled)" in html  # the prompt block shown on the page
        health = CustomerHealth.objects.get(customer=churned)
        assert (health.churn_risk, health.churn_risk_level) == (None, "churned")
        listing = self.client.get(CHANGELIST, {"churn": "churned"}).content.decode()
        assert "cust_000004" in listing and "customer_123" not in listing

    def test_the_cache_tier_is_shown(self):
        self.client.force_login(self.superuser)
        get_context_service().invalidate_cache("customer_123")
        first = self.client.get(change_url(self.acme)).content.decode()
        assert re.search(r'id="cc-tier">computed<', first)
        second = self.client.get(change_url(self.acme)).content.decode()
        assert re.search(r'id="cc-tier">L1 \(in-process\)<', second)

    def test_customer_at_risk_shows_its_red_flags_with_evidence(self):
        self.client.force_login(self.viewer)
        html = self.client.get(change_url(self.globex)).content.decode()
        assert "Globex Industries" in html
        red = re.findall(r'<li class="cc-flag-red" data-flag-code="([a-z_]+)"', html)
        assert {"payment_failed", "urgent_tickets_open", "login_drop"} <= set(red)
        assert "Payment failed - subscription past due" in html
        assert "Critical issues" in html
        assert "urgent open tickets: <b>2</b>" in html  # evidence
        assert "cc-critical" in html

    def test_customer_text_is_escaped(self):
        evil = Customer.objects.create(
            external_id="evil_1", company_name='<script>alert("x")</script>Evil', customer_since="2024-01-01"
        )
        TicketFactory(customer=evil, subject="<img src=x onerror=alert(1)>")
        self.client.force_login(self.superuser)
        html = self.client.get(change_url(evil)).content.decode()
        assert '<script>alert("x")</script>' not in html
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;Evil" in html
        assert "<img src=x onerror" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
        listing = self.client.get(CHANGELIST, {"q": "evil_1"}).content.decode()
        assert '<script>alert("x")</script>' not in listing

    def test_degraded_sections_are_shown(self):
        class Exploding(ContextProvider):
            key = "engagement_metrics"
            section = EngagementMetrics

            def fetch(self, request, *, sections):
                raise RuntimeError("engagement store is down")

        providers = [p for p in load_providers() if p.key != "engagement_metrics"] + [Exploding()]
        service = ContextEnrichmentService(enable_caching=False, providers=providers)
        self.client.force_login(self.superuser)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr("enrichment.admin.customer_page.get_context_service", lambda: service)
            html = self.client.get(change_url(self.acme)).content.decode()
        assert 'id="cc-degraded"' in html and "Degraded context" in html
        assert "error: RuntimeError" in html
        assert 'class="cc-card cc-degraded" id="cc-engagement"' in html

    def test_an_unavailable_context_keeps_the_page_usable(self):
        class Down:
            def enrich_context(self, *args, **kwargs):
                raise ContextEnrichmentError("the customer database is unreachable")

        self.client.force_login(self.superuser)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr("enrichment.admin.customer_page.get_context_service", lambda: Down())
            response = self.client.get(change_url(self.acme))
        assert response.status_code == 200
        html = response.content.decode()
        assert "Context unavailable" in html and "the customer database is unreachable" in html
        assert 'name="company_name"' in html  # the change form is still there

    # -- actions ------------------------------------------------------------------------
    def test_refresh_contexts_action_runs_the_task(self):
        self.client.force_login(self.superuser)
        CustomerHealth.objects.filter(customer__in=[self.acme, self.globex]).delete()
        response = self.client.post(
            CHANGELIST,
            {"action": "refresh_selected_contexts", "_selected_action": [self.acme.pk, self.globex.pk]},
            follow=True,
        )
        assert response.status_code == 200
        assert "Refreshed 2 of 2 contexts." in _messages(response) or "Refreshed 2 of 2 contexts." in response.content.decode()
        assert CustomerHealth.objects.get(customer=self.acme).health_score == 85
        assert CustomerHealth.objects.filter(customer=self.globex, red_flags__gt=0).exists()

    def test_fetch_external_enrichment_says_no_vendor_is_configured(self):
        self.client.force_login(self.superuser)
        response = self.client.post(
            CHANGELIST, {"action": "fetch_external_enrichment", "_selected_action": [self.acme.pk]}, follow=True
        )
        html = response.content.decode()
        assert "No external data vendor is configured" in html
        assert "CLEARBIT_API_KEY, CRUNCHBASE_API_KEY and NEWSAPI_KEY are unset" in html

    def test_fetch_external_enrichment_with_a_key_queues_the_task(self):
        queued = []
        self.client.force_login(self.superuser)
        with override_settings(CLEARBIT_API_KEY="sk_test"), pytest.MonkeyPatch.context() as mp:
            mp.setattr("enrichment.vendors.tasks.fetch_external_enrichment.delay", queued.append)
            response = self.client.post(
                CHANGELIST,
                {"action": "fetch_external_enrichment", "_selected_action": [self.acme.pk, self.globex.pk]},
                follow=True,
            )
        html = response.content.decode()
        assert queued == ["customer_123", "customer_at_risk"]
        assert "Queued external enrichment for 2 customer(s) (CLEARBIT_API_KEY configured)" in html
        assert "sk_test" not in html

    # -- dashboard ------------------------------------------------------------------------
    def test_dashboard(self):
        self.client.force_login(self.viewer)
        response = self.client.get(f"{CHANGELIST}dashboard/")
        assert response.status_code == 200
        labels = {row["label"]: row["count"] for row in response.context["labels"]}
        assert sum(labels.values()) == Customer.objects.count()
        assert labels["Good"] >= 1 and labels["Critical"] >= 1
        renewals = response.context["renewals"]
        assert 0 < len(renewals) <= 20
        assert all(row["red_flags"] > 0 for row in renewals)
        assert [row["renewal_date"] for row in renewals] == sorted(row["renewal_date"] for row in renewals)
        assert "customer_at_risk" in {row["customer__external_id"] for row in renewals}
        drops = response.context["drops"]
        assert [row["drop"] for row in drops] == sorted((row["drop"] for row in drops), reverse=True)
        assert all(row["drop"] == row["before"] - row["health_score"] > 0 for row in drops)
        html = response.content.decode()
        assert "Globex Industries" in html and "Biggest health drops this week" in html

    def test_admin_index_links_to_the_dashboard(self):
        self.client.force_login(self.viewer)
        html = self.client.get("/admin/").content.decode()
        assert f'href="{CHANGELIST}dashboard/"' in html
