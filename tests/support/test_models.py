from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from support.models import IncidentStatus, Ticket, TicketStatus
from tests.customers.factories import CustomerFactory
from tests.support.factories import IncidentFactory, TicketFactory

pytestmark = pytest.mark.django_db


def _ticket(**overrides) -> Ticket:
    values = {"customer": CustomerFactory(), "subject": "Help", "created_at": timezone.now()}
    values.update(overrides)
    return Ticket.objects.create(**values)


@pytest.mark.parametrize("csat", [0, 6, 100])
def test_csat_out_of_range_rejected(csat):
    with pytest.raises(IntegrityError), transaction.atomic():
        _ticket(csat=csat)


def test_csat_out_of_range_rejected_on_bulk_create():
    customer = CustomerFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Ticket.objects.bulk_create([Ticket(customer=customer, subject="x", created_at=timezone.now(), csat=6)])


@pytest.mark.parametrize("csat", [None, 1, 2, 3, 4, 5])
def test_csat_in_range_accepted(csat):
    assert _ticket(csat=csat).csat == csat


def test_csat_update_to_out_of_range_rejected():
    ticket = _ticket(csat=5)
    with pytest.raises(IntegrityError), transaction.atomic():
        Ticket.objects.filter(pk=ticket.pk).update(csat=0)


def test_ticket_factory_defaults_and_solved_trait():
    ticket = TicketFactory()
    ticket.full_clean()
    assert ticket.status == TicketStatus.OPEN
    assert ticket.contact.customer_id == ticket.customer_id
    solved = TicketFactory(solved=True)
    assert solved.status == TicketStatus.SOLVED
    assert solved.resolved_at > solved.created_at
    assert 1 <= solved.csat <= 5


def test_incident_factory():
    active = IncidentFactory()
    assert active.components == ["reports"]
    assert active.resolved_at is None
    resolved = IncidentFactory(resolved=True)
    assert resolved.status == IncidentStatus.RESOLVED
    assert resolved.resolved_at > resolved.started_at
