from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from customers.models import Contact, Customer, EngagementDaily, EngagementEvent, EngagementKind
from tests.customers.factories import ContactFactory, EngagementEventFactory

pytestmark = pytest.mark.django_db


def _customer(external_id: str = "customer_1") -> Customer:
    return Customer.objects.create(external_id=external_id, company_name="Acme", domain="acme.com", customer_since=dt.date(2024, 1, 1))


def test_factories_build_valid_lower_case_rows():
    contact = ContactFactory()
    contact.full_clean()
    contact.customer.full_clean()
    assert contact.email == contact.email.lower()
    assert contact.email.endswith("@" + contact.customer.domain)
    assert contact.customer.domain == contact.customer.domain.lower()
    assert contact.customer.external_id.startswith("cust_")

    event = EngagementEventFactory(customer=contact.customer, feature_use=True)
    assert event.kind == EngagementKind.FEATURE_USE
    assert event.feature


def test_duplicate_external_id_rejected():
    _customer("customer_1")
    with pytest.raises(IntegrityError), transaction.atomic():
        _customer("customer_1")


def test_blank_external_id_rejected():
    with pytest.raises(IntegrityError), transaction.atomic():
        _customer("")


def test_duplicate_contact_email_rejected():
    customer = _customer()
    Contact.objects.create(customer=customer, email="jane@acme.com")
    other = _customer("customer_2")
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.create(customer=other, email="jane@acme.com")


@pytest.mark.parametrize("email", ["Jane@acme.com", "jane@ACME.com"])
def test_upper_case_email_rejected(email):
    customer = _customer()
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.create(customer=customer, email=email)


def test_upper_case_email_rejected_on_bulk_create():
    customer = _customer()
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.bulk_create([Contact(customer=customer, email="ok@acme.com"), Contact(customer=customer, email="NO@acme.com")])
    assert not Contact.objects.exists()


def test_duplicate_event_id_rejected_but_many_null_event_ids_allowed():
    customer = _customer()
    now = timezone.now()
    EngagementEvent.objects.bulk_create([EngagementEvent(customer=customer, kind=EngagementKind.LOGIN, occurred_at=now) for _ in range(3)])
    EngagementEvent.objects.create(customer=customer, kind=EngagementKind.LOGIN, occurred_at=now, event_id="e-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        EngagementEvent.objects.create(customer=customer, kind=EngagementKind.LOGIN, occurred_at=now, event_id="e-1")


def test_engagement_daily_unique_per_customer_day_kind_feature():
    customer = _customer()
    day = dt.date(2024, 5, 1)
    EngagementDaily.objects.create(customer=customer, day=day, kind="login", count=3)
    EngagementDaily.objects.create(customer=customer, day=day, kind="feature_use", feature="tasks", count=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        EngagementDaily.objects.create(customer=customer, day=day, kind="login", count=4)


def test_customer_delete_cascades_to_contacts_and_events():
    contact = ContactFactory()
    EngagementEventFactory(customer=contact.customer, contact=contact)
    contact.customer.delete()
    assert not Contact.objects.exists()
    assert not EngagementEvent.objects.exists()


def test_a_contact_inserted_by_raw_sql_gets_the_database_defaults():
    """Bulk loads and other services need not name title or roles (customers 0009)."""
    customer = _customer("raw_contact")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO customers_contact (customer_id, email, name, role, created_at) VALUES (%s, 'raw@x.io', 'Raw', '', %s)",
            [customer.pk, timezone.now()],
        )
    raw = Contact.objects.get(email="raw@x.io")
    assert (raw.title, raw.account_roles) == ("", [])
