"""Validating and resolving what callers name a customer by: an external id,
a contact email or a domain. Ids are validated here once, at the boundary:
a :class:`CustomerId` is a ``str`` that has passed validation, so inner layers
accept it without checking again."""

from __future__ import annotations

import re
from typing import Any

from customers.models import EXTERNAL_ID_PATTERN
from customers.selectors import customer_external_id_for_domain, customer_external_id_for_email
from enrichment.context.exceptions import CustomerNotFound, InvalidLookup

_EXTERNAL_ID = re.compile(EXTERNAL_ID_PATTERN)
_MATCH = _EXTERNAL_ID.fullmatch  # not .match: "$" would let a trailing newline through
_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
INVALID_ID = "customer_id must be 1-64 characters of letters, digits, '_', '.', ':' or '-', starting with a letter or digit"


class CustomerId(str):
    """An external customer id that passed validation."""

    __slots__ = ()


def validate_customer_id(customer_id: Any) -> CustomerId:
    """The id as a :class:`CustomerId`; :class:`InvalidLookup` if it cannot be one."""
    if type(customer_id) is CustomerId:
        return customer_id
    if isinstance(customer_id, str) and _MATCH(customer_id):
        return CustomerId(customer_id)
    raise InvalidLookup(INVALID_ID)


# Mailbox providers: a domain shared by strangers never names a company.
PERSONAL_EMAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "yahoo.com", "ymail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
        "icloud.com", "me.com", "mac.com", "aol.com", "proton.me", "protonmail.com", "gmx.com", "gmx.de", "web.de",
        "mail.com", "yandex.com", "yandex.ru", "zoho.com", "fastmail.com", "hey.com", "qq.com", "163.com",
    }
)  # fmt: skip


def validate_email(email: Any) -> str:
    """The address stripped and lower-cased; :class:`InvalidLookup` if it is not one."""
    if not isinstance(email, str):
        raise InvalidLookup("email is not a valid email address")
    email = email.strip()
    if len(email) > 254 or not _EMAIL.match(email):
        raise InvalidLookup("email is not a valid email address")
    return email.lower()


def customer_id_resolve(*, email: str | None = None, domain: str | None = None) -> CustomerId:
    """The external id of the customer a contact email or a domain belongs to."""
    if email is not None:
        email = validate_email(email)
        found = customer_external_id_for_email(email=email)
        if found is None:
            raise CustomerNotFound(f"email {email!r}")
        return CustomerId(found)
    if domain is not None:
        domain = domain.strip().lower().removeprefix("www.")
        if not _DOMAIN.match(domain):
            raise InvalidLookup("domain is not a valid domain name")
        if domain in PERSONAL_EMAIL_DOMAINS:
            raise InvalidLookup(f"{domain} is a personal email domain, not a company's: look the person up by their email")
        found = customer_external_id_for_domain(domain=domain)
        if found is None:
            raise CustomerNotFound(f"domain {domain!r}")
        return CustomerId(found)
    raise InvalidLookup("give an email or a domain")
