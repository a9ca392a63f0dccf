"""The demo seed's plain builders: deterministic names, lower-case domains and addresses, no database."""

from __future__ import annotations

import re

from customers.models import Customer
from enrichment.demo.builders import (
    company_name,
    contacts_build,
    domain_for,
    email_for,
    names_random,
    numbers_random,
    person_name,
)


def test_names_are_deterministic_per_seed_and_customer():
    def draw(seed: int, external_id: str) -> list[str]:
        names = names_random(seed, external_id)
        return [company_name(names), person_name(names), person_name(names)]

    assert draw(42, "cust_000001") == draw(42, "cust_000001")
    assert draw(42, "cust_000001") != draw(43, "cust_000001")
    assert draw(42, "cust_000001") != draw(42, "cust_000002")


def test_company_names_make_valid_lower_case_domains():
    names = names_random(1, "many")
    domains = {domain_for(company_name(names)) for _ in range(500)}
    assert len(domains) > 400
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*\.com", d) for d in domains)
    assert domain_for("Smith, Lee and Co") == "smith-lee-and-co.com"


def test_contacts_get_unique_addresses_at_the_customer_domain():
    customer = Customer(external_id="x", company_name="Acme Corp", domain="acme.com")
    same_name = iter(["Ann Lee"] * 3).__next__
    contacts = contacts_build(numbers_random(1, "x"), customer, 4, next_name=same_name, first=("Jane Doe", "jane@acme.com", "admin"))
    assert [c.email for c in contacts] == ["jane@acme.com", "ann.lee@acme.com", "ann.lee2@acme.com", "ann.lee3@acme.com"]
    assert contacts[0].role == "admin"
    assert email_for("Émile O'Neil", "Example.COM") == "emile.oneil@example.com"
