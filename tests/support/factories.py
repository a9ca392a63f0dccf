"""factory-boy factories for the support app's models (tests only: the demo seed has its own builders)."""

from __future__ import annotations

import datetime as dt

import factory
import factory.random
from django.utils import timezone
from factory.django import DjangoModelFactory

from support.models import (
    Incident,
    IncidentImpact,
    IncidentStatus,
    Ticket,
    TicketChannel,
    TicketPriority,
    TicketStatus,
)
from tests.customers.factories import ContactFactory, CustomerFactory

TICKET_CATEGORIES = ("billing", "bug", "how_to", "feature_request", "account")


class TicketFactory(DjangoModelFactory):
    """An open ticket answered an hour after it was created. Trait ``solved`` adds a resolution and a CSAT."""

    class Meta:
        model = Ticket

    class Params:
        solved = factory.Trait(
            status=TicketStatus.SOLVED,
            resolved_at=factory.LazyAttribute(lambda o: o.created_at + dt.timedelta(hours=6)),
            csat=factory.Faker("random_int", min=3, max=5),
        )

    customer = factory.SubFactory(CustomerFactory)
    contact = factory.SubFactory(ContactFactory, customer=factory.SelfAttribute("..customer"))
    subject = factory.Faker("sentence", nb_words=6, variable_nb_words=True)
    channel = factory.Faker("random_element", elements=TicketChannel.values)
    status = TicketStatus.OPEN
    priority = TicketPriority.NORMAL
    category = factory.Faker("random_element", elements=TICKET_CATEGORIES)
    created_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(minutes=factory.random.randgen.randint(120, 60 * 24 * 60)))
    first_response_at = factory.LazyAttribute(lambda o: o.created_at + dt.timedelta(hours=1))
    resolved_at = None
    csat = None
    assignee = None


class IncidentFactory(DjangoModelFactory):
    """An ongoing minor incident on ``reports``. Trait ``resolved`` closes it."""

    class Meta:
        model = Incident

    class Params:
        resolved = factory.Trait(
            status=IncidentStatus.RESOLVED,
            resolved_at=factory.LazyAttribute(lambda o: o.started_at + dt.timedelta(hours=2)),
        )

    title = factory.Faker("sentence", nb_words=5)
    impact = IncidentImpact.MINOR
    status = IncidentStatus.INVESTIGATING
    components = factory.LazyFunction(lambda: ["reports"])
    affected_plans = factory.LazyFunction(list)
    affected_regions = factory.LazyFunction(list)
    started_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(minutes=30))
    resolved_at = None
