"""The customer page's first screen (issue #13, item 5) against the demo seed:
top reasons, open tickets, changes since last contact, the requester from
``?ticket=`` and ``?contact=`` (bad values never fail the page), and the links
to it from the ticket and contact admin."""

from __future__ import annotations

import html as html_lib
from io import StringIO
from urllib.parse import quote

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import TestCase

from customers.models import Contact, Customer
from enrichment.engine.service import get_context_service
from support.models import Ticket
from tests.enrichment.admin.conftest import change_url

OPEN = ("open", "pending")


class FirstScreenTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        call_command("seed_demo", customers=12, stdout=StringIO())
        cls.acme = Customer.objects.get(external_id="customer_123")
        cls.globex = Customer.objects.get(external_id="customer_at_risk")
        cls.superuser = get_user_model().objects.get(username="admin")
        cls.urgent = Ticket.objects.filter(customer=cls.globex, status="open", priority="urgent").order_by("-created_at").first()
        cls.acme_ticket = Ticket.objects.filter(customer=cls.acme).order_by("-created_at").first()

    def setUp(self):
        self.client.force_login(self.superuser)

    def _page(self, customer: Customer, query: str = ""):
        response = self.client.get(change_url(customer) + query)
        assert response.status_code == 200
        return response, response.content.decode()

    def test_health_reasons_open_tickets_and_changes_come_before_the_rest(self):
        response, html = self._page(self.globex)
        health = get_context_service().enrich_context("customer_at_risk").account_health
        reasons = response.context["cc"]["first"]["reasons"]
        red = [flag.message for flag in health.flags if flag.level == "red"]
        assert [r["text"] for r in reasons if r["kind"] == "red"] == red[:3]
        assert [r["kind"] for r in reasons][-2:] == ["factor", "factor"]
        assert reasons[-2]["text"] == "Engagement 2/25 points"  # the factor that lost the most
        top = html.split('id="cc-top-reasons"')[1].split("</div>")[0]
        assert "Payment failed - subscription past due" in top

        open_tickets = list(Ticket.objects.filter(customer=self.globex, status__in=OPEN).order_by("-created_at"))
        assert open_tickets and self.urgent in open_tickets
        card = html.split('id="cc-open"')[1].split('id="cc-changes"')[0]
        for ticket in open_tickets[:5]:
            assert f'<a href="/admin/support/ticket/{ticket.pk}/change/" class="cc-ticket-subject">' in card
            assert html_lib.escape(ticket.subject) in card
            assert f'href="{change_url(self.globex)}?ticket={ticket.pk}"' in card

        changes = response.context["cc"]["first"]["changes"]
        assert changes["available"] and changes["lines"]
        assert any(line.startswith("Health score dropped") for line in changes["lines"])
        assert "Changes since last contact" in html

        # The order of the page: reasons, flags, open tickets, changes, then the rest, then the form.
        order = ['id="cc-top-reasons"', 'id="cc-flags"', 'id="cc-open"', 'id="cc-changes"', 'id="cc-meta"',
                 'id="cc-actions"', 'id="cc-breakdown"', 'id="cc-trend"', 'id="cc-prompt"', 'name="company_name"']  # fmt: skip
        positions = [html.index(marker) for marker in order]
        assert positions == sorted(positions)

    def test_opened_from_a_ticket_shows_the_requester_and_the_ticket(self):
        response, html = self._page(self.globex, f"?ticket={self.urgent.pk}")
        contact = self.urgent.contact
        assert contact is not None
        conv = response.context["cc"]["first"]["conversation"]
        assert conv["ticket"]["ticket"].id == self.urgent.pk
        assert conv["requester"]["req"].email == contact.email
        requester = html.split('id="cc-requester"')[1].split('id="cc-ticket-focus"')[0]
        assert html_lib.escape(contact.name) in requester and contact.email in requester
        focus = html.split('id="cc-ticket-focus"')[1].split('id="cc-first-screen"')[0]
        assert html_lib.escape(self.urgent.subject) in focus
        assert f'<a href="/admin/support/ticket/{self.urgent.pk}/change/">#{self.urgent.pk}</a>' in focus
        assert "urgent" in focus and "first response" in focus
        assert html.index('id="cc-conversation"') < html.index('id="cc-flags"')

    def test_opened_from_a_contact_shows_the_requester(self):
        jane = Contact.objects.get(email="jane@acme.com")
        for value in ("jane@acme.com", "JANE@acme.com", quote(" jane@acme.com ")):
            response, html = self._page(self.acme, f"?contact={value}")
            conv = response.context["cc"]["first"]["conversation"]
            assert conv["requester"]["req"].email == "jane@acme.com"
            assert conv["ticket"] is None
            assert 'id="cc-requester"' in html and html_lib.escape(jane.name) in html
            assert 'id="cc-ticket-focus"' not in html
            assert "Roles on the account" in html or not jane.account_roles

    def test_bad_or_foreign_lookups_show_the_page_without_a_requester(self):
        cases = [
            ("?ticket=abc", "No ticket #abc found"),
            ("?ticket=-3", "No ticket #-3 found"),
            ("?ticket=0", "No ticket #0 found"),
            ("?ticket=99999999999999999999999", "No ticket #99999999999999999999999 found"),
            ("?ticket=%EF%BC%91", "found"),  # a full-width digit one
            ("?ticket=987654321", "No ticket #987654321 found"),
            ("?ticket=%00", "found"),
            ("?contact=nobody@nowhere.example", "No contact nobody@nowhere.example found"),
            ("?contact=not-an-email", "No contact not-an-email found"),
            ("?contact=%3Cscript%3Ealert(1)%3C/script%3E", "found"),
            (f"?ticket={self.acme_ticket.pk}", "belongs to another customer"),
            ("?contact=jane@acme.com", "belongs to another customer"),
        ]
        for query, note in cases:
            response, html = self._page(self.globex, query)
            conv = response.context["cc"]["first"]["conversation"]
            assert conv is not None and conv["note"], query
            assert note in conv["note"], (query, conv["note"])
            assert 'id="cc-requester"' not in html and 'id="cc-ticket-focus"' not in html, query
            assert "<script>alert(1)" not in html
            assert 'id="cc-flags"' in html and 'name="company_name"' in html, query
        _, plain = self._page(self.globex, "?ticket=")
        assert 'id="cc-conversation"' not in plain

    def test_ticket_and_contact_admin_link_to_the_customer_page(self):
        tickets = self.client.get("/admin/support/ticket/", {"q": self.urgent.subject}).content.decode()
        assert f'href="{change_url(self.globex)}?ticket={self.urgent.pk}" class="cc-answer-link"' in tickets
        ticket_page = self.client.get(f"/admin/support/ticket/{self.urgent.pk}/change/").content.decode()
        assert f'href="{change_url(self.globex)}?ticket={self.urgent.pk}"' in ticket_page

        contacts = self.client.get("/admin/customers/contact/", {"q": "jane@acme.com"}).content.decode()
        assert f'href="{change_url(self.acme)}?contact=jane%40acme.com" class="cc-requester-link"' in contacts
        _, page = self._page(self.acme)  # the contacts inline on the customer page
        assert f'href="{change_url(self.acme)}?contact=jane%40acme.com"' in page
