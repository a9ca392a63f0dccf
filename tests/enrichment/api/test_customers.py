"""GET /api/v1/customers/?search=..."""

from __future__ import annotations

import pytest

from tests.billing.factories import SubscriptionFactory
from tests.customers.factories import ContactFactory, CustomerFactory
from tests.enrichment.api.helpers import ACME, assert_error

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/"
ROW_KEYS = {"external_id", "company_name", "domain", "industry", "region", "plan", "health_score", "health_label"}


@pytest.mark.parametrize("search", ["Acme", "acme corp", "acme.com", ACME, "jane@acme.com", "jane@"])
def test_search_by_name_domain_id_or_email(demo, api, search):
    response = api.get(URL, {"search": search})
    assert response.status_code == 200, response.content
    page = response.json()
    assert set(page) == {"count", "next", "previous", "results"}
    acme = [row for row in page["results"] if row["external_id"] == ACME]
    assert acme, page
    row = acme[0]
    assert set(row) == ROW_KEYS
    assert row["company_name"] == "Acme Corp" and row["domain"] == "acme.com"
    assert row["plan"] and isinstance(row["health_score"], int)


def test_no_match(demo, api):
    assert api.get(URL, {"search": "zzz-no-such-company"}).json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_pagination_and_no_per_row_queries(db, api, django_assert_max_num_queries):
    for i in range(30):
        customer = CustomerFactory(company_name=f"Paged Co {i:02d}")
        SubscriptionFactory(customer=customer)
        ContactFactory(customer=customer)
    api.get(URL, {"limit": 1})  # token cached
    with django_assert_max_num_queries(2):  # count + page, whatever the page size
        page = api.get(URL, {"search": "Paged Co", "limit": 25}).json()
    assert page["count"] == 30 and len(page["results"]) == 25
    assert [r["company_name"] for r in page["results"]] == [f"Paged Co {i:02d}" for i in range(25)]
    assert all(r["plan"] == "professional" and r["health_score"] is None for r in page["results"])
    assert "offset=25" in page["next"] and page["previous"] is None
    second = api.get(URL, {"search": "Paged Co", "limit": 25, "offset": 25}).json()
    assert len(second["results"]) == 5 and second["next"] is None and second["previous"]


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 101}, {"limit": "ten"}, {"offset": -1}, {"search": "x" * 201}, {"search": "a\x00b"}, {"page": 2}],
)
def test_bad_parameters(demo, api, params):
    response = api.get(URL, params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] in ("invalid_parameter", "unknown_parameter")


def test_needs_a_token(demo):
    from tests.enrichment.api.helpers import client_for

    assert_error(client_for(None).get(URL), 401, "not_authenticated")
