"""Who is asking: the requester part for a contact email, through the API,
the batch and the CLI, with figures checked against the raw rows."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import Contact, Customer, EngagementEvent
from customers.selectors import ContactRef, contact_get
from enrichment.engine.changes import context_changes_apply
from enrichment.engine.requester import requester_build
from support.models import OPEN_TICKET_STATUSES, Ticket
from tests.customers.factories import ContactFactory, CustomerFactory
from tests.enrichment.api.helpers import ACME, assert_error
from tests.support.factories import TicketFactory

pytestmark = pytest.mark.django_db(transaction=True)
LOOKUP = "/api/v1/context/"


def brute_force(email: str) -> dict:
    """The requester's figures straight from the rows."""
    contact = Contact.objects.get(email=email)
    tickets = list(Ticket.objects.filter(contact=contact).order_by("-created_at", "-id"))
    rated = [t.csat for t in tickets if t.csat is not None]
    now = timezone.now()
    logins = EngagementEvent.objects.filter(contact=contact, kind="login")
    return {
        "tickets_total": len(tickets),
        "open_tickets_count": sum(t.status in OPEN_TICKET_STATUSES for t in tickets),
        "avg_csat": round(sum(rated) / len(rated), 2) if rated else None,
        "open_ids": [t.id for t in tickets if t.status in OPEN_TICKET_STATUSES][:10],
        "recent_ids": [t.id for t in tickets][:5],
        "logins_30d": logins.filter(occurred_at__gt=now - dt.timedelta(days=30), occurred_at__lte=now).count(),
        "last_login_at": max((e.occurred_at for e in logins.filter(occurred_at__lte=now)), default=None),
    }


def test_jane_at_acme_is_the_requester_with_her_own_figures(demo, api):
    data = api.get(LOOKUP, {"email": "jane@acme.com"}).json()
    assert data["customer_id"] == ACME
    requester = data["requester"]
    expected = brute_force("jane@acme.com")
    assert (requester["email"], requester["name"], requester["title"]) == ("jane@acme.com", "Jane Doe", "Head of Operations")
    assert requester["account_roles"] == ["admin", "decision_maker"]
    for key in ("tickets_total", "open_tickets_count", "avg_csat", "logins_30d"):
        assert requester[key] == expected[key], key
    assert [t["id"] for t in requester["open_tickets"]] == expected["open_ids"]
    assert [t["id"] for t in requester["recent_tickets"]] == expected["recent_ids"]
    assert requester["last_login_at"] == (expected["last_login_at"].isoformat() if expected["last_login_at"] else None)
    assert [t["subject"] for t in requester["open_tickets"]] == ["How do I export a project timeline to PDF?"]
    lines = data["prompt"].splitlines()
    assert "Requester:" in lines
    assert "- Jane Doe (jane@acme.com), Head of Operations" in lines
    assert "- Roles on the account: admin, decision maker" in lines
    assert any(line.startswith("- Their open ticket: #") and "How do I export a project timeline to PDF?" in line for line in lines)
    # the person first, then the company's activity
    assert lines.index("Requester:") < lines.index("Recent Activity:")


def test_email_lookup_is_case_and_space_insensitive(demo, api):
    data = api.get(LOOKUP, {"email": "  Jane@ACME.com "}).json()
    assert data["requester"]["email"] == "jane@acme.com"


def test_a_contact_with_no_tickets(demo, api):
    acme = Customer.objects.get(external_id=ACME)
    quiet = ContactFactory(customer=acme, email="quiet@acme.com", name="Quinn Quiet", title="", account_roles=[])
    requester = api.get(LOOKUP, {"email": quiet.email}).json()["requester"]
    assert (requester["tickets_total"], requester["open_tickets_count"], requester["avg_csat"]) == (0, 0, None)
    assert requester["open_tickets"] == requester["recent_tickets"] == []
    prompt = api.get(LOOKUP, {"email": quiet.email}).json()["prompt"]
    assert "- Their tickets: 0 in all, 0 open" in prompt.splitlines()


def test_unknown_email_is_404_in_the_error_shape(demo, api):
    error = assert_error(api.get(LOOKUP, {"email": "nobody@acme.com"}), 404, "customer_not_found")
    assert "nobody@acme.com" in error["message"]


def test_a_personal_mailbox_never_resolves_a_company_by_its_domain(demo, api):
    # bad data: a customer filed under gmail.com; a stranger writing from gmail must not get its context
    CustomerFactory(external_id="filed_under_gmail", domain="gmail.com")
    assert_error(api.get(LOOKUP, {"email": "jane.doe@gmail.com"}), 404, "customer_not_found")
    error = assert_error(api.get(LOOKUP, {"domain": "gmail.com"}), 400, "invalid_parameter")
    assert "personal email domain" in error["message"]
    assert api.get(LOOKUP, {"domain": "acme.com"}).json()["customer_id"] == ACME  # a company's domain still works


def test_domain_lookup_has_no_requester(demo, api):
    data = api.get(LOOKUP, {"domain": "acme.com"}).json()
    assert "requester" not in data and "Requester:" not in data["prompt"]


def test_batch_items_by_email_carry_their_requester(demo, api):
    body = {"customer_ids": ["customer_at_risk"], "emails": ["jane@acme.com", "nobody@acme.com", "not an email", "jane@acme.com"]}
    results = api.post("/api/v1/contexts/batch/", body, format="json").json()["results"]
    assert [(r.get("customer_id"), r.get("email"), r["status"]) for r in results] == [
        ("customer_at_risk", None, "ok"),
        (None, "jane@acme.com", "ok"),
        (None, "nobody@acme.com", "not_found"),
        (None, "not an email", "invalid"),
    ]
    assert results[1]["context"]["requester"]["name"] == "Jane Doe"
    assert "requester" not in results[0]["context"]
    assert results[3]["error"]["code"] == "invalid_email"
    too_many = {"customer_ids": ["a"] * 60, "emails": ["b@c.de"] * 41}
    assert_error(api.post("/api/v1/contexts/batch/", too_many, format="json"), 400, "batch_too_large")


def test_cli_by_email(demo):
    out = StringIO()
    call_command("enrich", email="jane@acme.com", format="json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["requester"]["name"] == "Jane Doe" and data["customer_id"] == ACME
    out = StringIO()
    call_command("enrich", email="jane@acme.com", stdout=out)
    assert "- Jane Doe (jane@acme.com), Head of Operations" in out.getvalue().splitlines()
    with pytest.raises(CommandError, match=r"nobody@acme\.com"):
        call_command("enrich", email="nobody@acme.com", stdout=StringIO())


def _contact_with_tickets(n: int) -> Contact:
    customer = CustomerFactory()
    contact = ContactFactory(customer=customer)
    now = timezone.now()
    Ticket.objects.bulk_create(
        Ticket(customer=customer, contact=contact, subject=f"Question {i}", status=("open", "solved")[i % 2],
               created_at=now - dt.timedelta(hours=i + 1), csat=(None, 4)[i % 2])
        for i in range(n)
    )  # fmt: skip
    EngagementEvent.objects.bulk_create(
        EngagementEvent(customer=customer, contact=contact, kind="login", occurred_at=now - dt.timedelta(hours=i)) for i in range(n)
    )
    return contact


def test_the_requester_costs_the_same_queries_with_2_or_2000_tickets():
    few, many = _contact_with_tickets(2), _contact_with_tickets(2000)
    counts = []
    for contact in (few, many):
        ref = contact_ref(contact)
        with CaptureQueriesContext(connection) as queries:
            from_db = requester_build(contact=ref, now=timezone.now())
        counts.append(len(queries))
        assert from_db.tickets_total == Ticket.objects.filter(contact=contact).count()
    assert counts[0] == counts[1] == 2  # tickets with totals, activity grouped (with the last login)
    built = requester_build(contact=contact_ref(many), now=timezone.now())
    assert (built.open_tickets_count, len(built.open_tickets), len(built.recent_tickets)) == (1000, 10, 5)
    assert built.avg_csat == 4.0 and built.csat_responses == 1000


def test_the_requester_lookup_through_the_api_costs_the_same_queries_with_2_or_2000_tickets(api):
    few, many = _contact_with_tickets(2), _contact_with_tickets(2000)
    counts = []
    for contact in (few, many):
        api.get(LOOKUP, {"email": contact.email})  # the account context is cached after this
        with CaptureQueriesContext(connection) as queries:
            assert api.get(LOOKUP, {"email": contact.email, "refresh": "false"}).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_a_new_ticket_of_the_requester_shows_on_the_next_call(demo, api, django_capture_on_commit_callbacks):
    first = api.get(LOOKUP, {"email": "jane@acme.com"}).json()["requester"]
    assert api.get(LOOKUP, {"email": "jane@acme.com"}).json()["requester"] == first  # served from the requester cache
    jane = Contact.objects.get(email="jane@acme.com")
    with django_capture_on_commit_callbacks(execute=True):  # the account context is invalidated on commit
        TicketFactory(customer=jane.customer, contact=jane, subject="Second question", created_at=timezone.now())
    second = api.get(LOOKUP, {"email": "jane@acme.com"}).json()["requester"]
    assert second["tickets_total"] == first["tickets_total"] + 1
    assert second["open_tickets"][0]["subject"] == "Second question"


def contact_ref(contact: Contact) -> ContactRef:
    return contact_get(pk=contact.pk)


def test_a_ticket_written_by_another_service_reaches_the_requester(demo, api):
    """Raw SQL from a second connection: change capture invalidates the account
    context, and the requester part is rebuilt with it."""
    first = api.get(LOOKUP, {"email": "jane@acme.com"}).json()["requester"]
    jane = Contact.objects.get(email="jane@acme.com")
    other = psycopg.connect(**_dsn(), autocommit=True)
    try:
        other.execute(
            "INSERT INTO support_ticket (customer_id, contact_id, subject, channel, status, priority, category, created_at)"
            " VALUES (%s, %s, 'Synced from the helpdesk', 'email', 'open', 'normal', '', now())",
            [jane.customer_id, jane.pk],
        )
    finally:
        other.close()
    assert api.get(LOOKUP, {"email": "jane@acme.com"}).json()["requester"] == first  # not seen yet: cached
    assert context_changes_apply() >= 1
    second = api.get(LOOKUP, {"email": "jane@acme.com"}).json()["requester"]
    assert second["tickets_total"] == first["tickets_total"] + 1
    assert second["open_tickets"][0]["subject"] == "Synced from the helpdesk"


def _dsn() -> dict:
    db = connection.settings_dict
    return {"host": db["HOST"], "port": db["PORT"] or 5432, "user": db["USER"], "dbname": db["NAME"]}
