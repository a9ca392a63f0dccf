"""factory-boy factories for the customers app's models (tests only: the demo seed has its own builders)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import factory
import factory.random
from django.conf import settings
from django.utils import timezone
from django.utils.text import slugify
from factory.django import DjangoModelFactory

from customers.models import Contact, Customer, EngagementDaily, EngagementEvent, EngagementKind
from customers.services import engagement_rollup_rebuild

INDUSTRIES = (
    "Technology",
    "Software",
    "Manufacturing",
    "Retail",
    "Healthcare",
    "Financial Services",
    "Education",
    "Media",
    "Logistics",
    "Professional Services",
)
REGIONS = ("us", "eu", "apac")
CONTACT_ROLES = ("admin", "billing", "manager", "member", "member", "member", "developer", "analyst")


def domain_for(company_name: str) -> str:
    """A lower-case domain derived from a company name, e.g. ``"Smith, Lee and Co"`` -> ``smith-lee-and-co.com``."""
    slug = slugify(company_name)[:60].strip("-") or "example"
    return f"{slug}.com"


def email_for(name: str, domain: str, suffix: str = "") -> str:
    """A lower-case ``first.last[suffix]@domain`` address for a person's name."""
    local = slugify(name).replace("-", ".")[:50].strip(".") or "user"
    return f"{local}{suffix}@{(domain or 'example.com').lower()}".lower()


class CustomerFactory(DjangoModelFactory):
    class Meta:
        model = Customer

    external_id = factory.Sequence(lambda n: f"cust_{n:06d}")
    company_name = factory.Faker("company")
    domain = factory.LazyAttribute(lambda o: domain_for(o.company_name))
    industry = factory.Faker("random_element", elements=INDUSTRIES)
    region = factory.Faker("random_element", elements=REGIONS)
    customer_since = factory.Faker("date_between", start_date="-3y", end_date="-30d")
    account_owner = factory.Faker("name")


class ContactFactory(DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Faker("name")
    # The sequence keeps addresses unique when several contacts share a name and domain.
    email = factory.LazyAttributeSequence(lambda o, n: email_for(o.name, o.customer.domain, suffix=f".{n}"))
    role = factory.Faker("random_element", elements=CONTACT_ROLES)


def _random_feature() -> str:
    return factory.random.randgen.choice(list(settings.ENRICHMENT_PRODUCT_FEATURES))


class EngagementEventFactory(DjangoModelFactory):
    """A login by default; ``EngagementEventFactory(feature_use=True)`` for a feature event."""

    class Meta:
        model = EngagementEvent

    class Params:
        feature_use = factory.Trait(
            kind=EngagementKind.FEATURE_USE,
            feature=factory.LazyFunction(_random_feature),
        )

    customer = factory.SubFactory(CustomerFactory)
    contact = None
    kind = EngagementKind.LOGIN
    feature = ""
    occurred_at = factory.LazyFunction(
        lambda: timezone.now() - dt.timedelta(seconds=factory.random.randgen.randint(3600, 29 * 86400))
    )
    event_id = None


class EngagementDailyFactory(DjangoModelFactory):
    """A rollup row written directly (tests seed drift with it: a row without events)."""

    class Meta:
        model = EngagementDaily

    customer = factory.SubFactory(CustomerFactory)
    day = factory.LazyFunction(lambda: timezone.now().date())
    kind = EngagementKind.LOGIN
    feature = ""
    count = 1


def events_with_rollup(customer: Customer, events: Iterable[tuple[dt.datetime, str, str]]) -> list[EngagementEvent]:
    """Bulk-insert (occurred_at, kind, feature) events and rebuild the customer's
    rollup from them, so it is exact whoever else maintains it."""
    rows = EngagementEvent.objects.bulk_create(
        [EngagementEvent(customer=customer, kind=kind, feature=feature, occurred_at=at) for at, kind, feature in events]
    )
    engagement_rollup_rebuild(customer_ids=[customer.pk])
    return rows
