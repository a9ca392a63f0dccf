"""The context for the ticket being answered: the account, the requester,
the ticket and the account's other open tickets, in one call."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from support.models import Ticket
from tests.enrichment.api.helpers import assert_error

pytestmark = pytest.mark.django_db


def url(ticket_id, tail: str = "") -> str:
    return f"/api/v1/tickets/{ticket_id}/context/{tail}"


@pytest.fixture
def urgent(demo) -> Ticket:
    return Ticket.objects.get(customer__external_id="customer_at_risk", subject="Scheduled reports arrive empty")


def test_ticket_context_has_the_ticket_the_requester_and_the_account(urgent, api):
    data = api.get(url(urgent.pk)).json()
    assert data["customer_id"] == "customer_at_risk"
    ticket = data["ticket"]
    assert (ticket["id"], ticket["subject"], ticket["status"], ticket["priority"]) == (urgent.pk, urgent.subject, "open", "urgent")
    assert (ticket["category"], ticket["channel"], ticket["reopened_count"]) == (urgent.category, urgent.channel, 0)
    assert ticket["first_response_minutes"] is None and ticket["first_response_at"] is None
    age = (timezone.now() - urgent.created_at).total_seconds() / 3600
    assert abs(ticket["age_hours"] - age) < 0.2
    assert data["requester"]["email"] == urgent.contact.email
    assert urgent.pk in [t["id"] for t in data["requester"]["open_tickets"]]
    others = Ticket.objects.filter(customer=urgent.customer, status__in=("open", "pending")).order_by("-created_at")
    assert [t["id"] for t in data["support_history"]["open_ticket_list"]] == [t.pk for t in others]
    assert data["customer_intelligence"]["health_label"] == "Critical"  # the account's state, from the cached context


def test_ticket_prompt_names_the_ticket_and_the_open_tickets(urgent, api):
    text = api.get(url(urgent.pk, "prompt/")).content.decode()
    lines = text.splitlines()
    focus = lines.index("Ticket being answered:")
    facts = f"open, urgent priority, {urgent.category}, via {urgent.channel}"
    assert lines[focus + 1] == f"- #{urgent.pk} “Scheduled reports arrive empty” ({facts})"
    assert lines[focus + 3] == "- First response: not yet"
    opened = lines.index("Open tickets:")
    assert [line.split("“")[1].split("”")[0] for line in lines[opened + 1 : opened + 3]] == [
        "Scheduled reports arrive empty",
        "Data export failing since Monday",
    ]
    assert "Requester:" in lines and lines.index("Requester:") < focus < lines.index("Recent Activity:")
    assert text == api.get(url(urgent.pk)).json()["prompt"]


def test_a_reopened_ticket_says_so(urgent, api):
    Ticket.objects.filter(pk=urgent.pk).update(status="solved")
    with connection.cursor() as cursor:  # a helpdesk sync reopening it behind the ORM's back
        cursor.execute("UPDATE support_ticket SET status = 'open' WHERE id = %s", [urgent.pk])
    data = api.get(url(urgent.pk), {"refresh": "true"}).json()
    assert data["ticket"]["reopened_count"] == 1
    assert "- Reopened: 1 time" in data["prompt"].splitlines()


def test_first_response_time_is_in_minutes(demo, api):
    answered = Ticket.objects.filter(first_response_at__isnull=False).order_by("pk").first()
    minutes = round((answered.first_response_at - answered.created_at).total_seconds() / 60)
    assert api.get(url(answered.pk)).json()["ticket"]["first_response_minutes"] == minutes


def test_a_ticket_without_a_contact_has_no_requester(urgent, api):
    Ticket.objects.filter(pk=urgent.pk).update(contact=None)
    data = api.get(url(urgent.pk)).json()
    assert "requester" not in data and data["ticket"]["id"] == urgent.pk
    assert "Requester:" not in data["prompt"]


@pytest.mark.parametrize("bad", ["abc", "0", "-1", "1.5", "²", "١٢", "99999999999999999999", "1 2"])
def test_a_malformed_ticket_id_is_400(demo, api, bad):
    assert_error(api.get(url(bad)), 400, "invalid_parameter")


def test_an_unknown_ticket_is_404(demo, api):
    error = assert_error(api.get(url(987654321)), 404, "customer_not_found")
    assert "ticket 987654321" in error["message"]
    assert_error(api.get(url(987654321, "prompt/")), 404, "customer_not_found")


def test_the_ticket_being_answered_survives_any_budget(urgent, api):
    text = api.get(url(urgent.pk, "prompt/"), {"max_chars": 200}).content.decode()
    assert "Ticket being answered:" in text.splitlines()
    assert "[Omitted to fit the size budget:" in text


def test_cli_by_ticket(urgent):
    out = StringIO()
    call_command("enrich", ticket=str(urgent.pk), stdout=out)
    assert "Ticket being answered:" in out.getvalue().splitlines()
    out = StringIO()
    call_command("enrich", ticket=str(urgent.pk), format="json", stdout=out)
    assert json.loads(out.getvalue())["ticket"]["subject"] == "Scheduled reports arrive empty"
    with pytest.raises(CommandError, match="ticket 987654321"):
        call_command("enrich", ticket="987654321", stdout=StringIO())


def test_ticket_updated_at_is_kept_by_the_database(urgent):
    before = Ticket.objects.get(pk=urgent.pk).updated_at
    Ticket.objects.filter(pk=urgent.pk).update(priority="high")
    assert Ticket.objects.get(pk=urgent.pk).updated_at > before
    stamp = timezone.now() - dt.timedelta(days=3)  # a sync that carries the helpdesk's own time keeps it
    Ticket.objects.filter(pk=urgent.pk).update(priority="normal", updated_at=stamp)
    assert Ticket.objects.get(pk=urgent.pk).updated_at == stamp
