from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from enrichment.history.models import CustomerHealth

CHANGELIST = "/admin/customers/customer/"


def change_url(customer) -> str:
    return f"/admin/customers/customer/{customer.pk}/change/"


def health_for(customer, **fields) -> CustomerHealth:
    """A CustomerHealth row written directly (no enrichment), for list tests."""
    values = {
        "health_score": 80,
        "health_label": "Good",
        "churn_risk": 0.1,
        "churn_risk_level": "low",
        "red_flags": 0,
        "yellow_flags": 0,
        "green_flags": 1,
        "plan": "premium",
        "mrr": Decimal("100.00"),
        "renewal_date": timezone.localdate() + dt.timedelta(days=90),
        "computed_at": timezone.now(),
    }
    values.update(fields)
    return CustomerHealth.objects.create(customer=customer, **values)


def staff_user(username: str, *perms: str):
    user = get_user_model().objects.create_user(username=username, password="pw", is_staff=True)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return user


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser(username="boss", password="pw", email="boss@example.com")


@pytest.fixture
def viewer(db):
    """Staff with view permissions only: can see everything, change nothing."""
    return staff_user("viewer", "customers.view_customer", "customers.view_contact")


@pytest.fixture
def admin_client_for(client):
    def login(user):
        client.force_login(user)
        return client

    return login
