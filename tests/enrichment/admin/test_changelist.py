"""The customer change list: health columns from CustomerHealth (no per-row
queries, no enrichment), filters, contact-email search and sorting."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.billing.factories import PlanFactory
from tests.customers.factories import ContactFactory, CustomerFactory
from tests.enrichment.admin.conftest import CHANGELIST, health_for

pytestmark = pytest.mark.django_db


def _shown(response) -> list[str]:
    return [customer.external_id for customer in response.context["cl"].result_list]


def _customers_with_health(n: int, start: int = 0) -> None:
    labels = [("Good", 90, "low"), ("Fair", 65, "medium"), ("At Risk", 45, "medium"), ("Critical", 20, "high")]
    for i in range(start, start + n):
        customer = CustomerFactory(external_id=f"qc_{i:04d}")
        ContactFactory(customer=customer)
        label, score, level = labels[i % 4]
        health_for(customer, health_label=label, health_score=score, churn_risk_level=level, red_flags=i % 3)


def test_changelist_query_count_does_not_grow_with_rows(client, superuser, django_assert_max_num_queries):
    PlanFactory(code="premium")
    client.force_login(superuser)
    client.get(CHANGELIST)  # warm the session and content types

    _customers_with_health(5)
    with CaptureQueriesContext(connection) as five:
        response = client.get(CHANGELIST)
    assert len(_shown(response)) == 5

    _customers_with_health(45, start=5)
    with CaptureQueriesContext(connection) as fifty:
        response = client.get(CHANGELIST)
    assert len(_shown(response)) == 50
    html = response.content.decode()
    assert html.count('class="cc-badge cc-') == 50

    assert len(fifty) == len(five), [q["sql"][:120] for q in fifty.captured_queries]
    assert len(fifty) <= 8
    assert not any("enrichment_healthdaily" in q["sql"] for q in fifty.captured_queries)


def test_columns_render_from_customer_health(client, superuser):
    today = timezone.localdate()
    good = CustomerFactory(external_id="col_good", company_name="Good Co")
    health_for(
        good, health_score=91, health_label="Good", red_flags=0, yellow_flags=2, green_flags=3, mrr=1234.5,
        renewal_date=today + dt.timedelta(days=12), computed_at=timezone.now() - dt.timedelta(minutes=7),
    )
    CustomerFactory(external_id="col_none", company_name="None Co")
    client.force_login(superuser)
    html = client.get(CHANGELIST).content.decode()
    assert '<span class="cc-badge cc-good" title="Health score 91 of 100">91 · Good</span>' in html
    assert "not computed" in html
    assert "$1,234.50" in html
    assert "in 12 d" in html
    assert "7 min ago" in html
    assert '<span class="cc-dot cc-dot-yellow">2</span>' in html and '<span class="cc-dot cc-dot-green">3</span>' in html


@pytest.fixture
def filter_data(db):
    today = timezone.localdate()
    PlanFactory(code="starter", name="Starter")
    PlanFactory(code="premium", name="Premium")
    rows = {
        "f_good": {"health_label": "Good", "health_score": 90, "churn_risk_level": "low", "plan": "premium"},
        "f_fair": {"health_label": "Fair", "health_score": 70, "churn_risk_level": "medium", "yellow_flags": 1,
                   "renewal_date": today + dt.timedelta(days=45)},
        "f_risk": {"health_label": "At Risk", "health_score": 45, "churn_risk_level": "medium", "red_flags": 1,
                   "renewal_date": today + dt.timedelta(days=20), "plan": "starter"},
        "f_crit": {"health_label": "Critical", "health_score": 15, "churn_risk_level": "high", "red_flags": 4,
                   "renewal_date": today + dt.timedelta(days=3), "plan": "starter"},
        "f_past": {"health_label": "Good", "health_score": 82, "churn_risk_level": "low",
                   "renewal_date": today - dt.timedelta(days=2)},
    }
    for external_id, fields in rows.items():
        health_for(CustomerFactory(external_id=external_id), **fields)
    CustomerFactory(external_id="f_none")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"red_flags": "yes"}, {"f_risk", "f_crit"}),
        ({"red_flags": "no"}, {"f_good", "f_fair", "f_past"}),
        ({"renewal": "30"}, {"f_risk", "f_crit"}),
        ({"renewal": "7"}, {"f_crit"}),
        ({"renewal": "passed"}, {"f_past"}),
        ({"health": "good"}, {"f_good", "f_past"}),
        ({"health": "at_risk"}, {"f_risk"}),
        ({"health": "critical"}, {"f_crit"}),
        ({"health": "attention"}, {"f_risk", "f_crit"}),
        ({"health": "none"}, {"f_none"}),
        ({"churn": "high"}, {"f_crit"}),
        ({"churn": "medium"}, {"f_fair", "f_risk"}),
        ({"plan": "starter"}, {"f_risk", "f_crit"}),
        ({"red_flags": "yes", "renewal": "30", "plan": "starter"}, {"f_risk", "f_crit"}),
    ],
)
def test_filters(client, superuser, filter_data, params, expected):
    client.force_login(superuser)
    response = client.get(CHANGELIST, params)
    assert response.status_code == 200
    assert set(_shown(response)) == expected


def test_sorting_by_health_score_and_renewal(client, superuser, filter_data):
    client.force_login(superuser)
    response = client.get(CHANGELIST)
    columns = list(response.context["cl"].list_display)
    health_col = columns.index("health_badge")
    renewal_col = columns.index("renewal")

    ascending = _shown(client.get(CHANGELIST, {"o": str(health_col)}))
    assert ascending[:5] == ["f_crit", "f_risk", "f_fair", "f_past", "f_good"]
    descending = _shown(client.get(CHANGELIST, {"o": f"-{health_col}"}))
    assert [c for c in descending if c != "f_none"] == ["f_good", "f_past", "f_fair", "f_risk", "f_crit"]

    by_renewal = _shown(client.get(CHANGELIST, {"o": str(renewal_col)}))
    assert by_renewal[:4] == ["f_past", "f_crit", "f_risk", "f_fair"]


def test_search_by_contact_email_finds_the_customer_once(client, superuser):
    acme = CustomerFactory(external_id="s_acme", company_name="Acme Corp", domain="acme.com")
    for name in ("jane", "john", "jim"):
        ContactFactory(customer=acme, email=f"{name}@acme.com")
    other = CustomerFactory(external_id="s_other", company_name="Other Ltd", domain="other.io")
    ContactFactory(customer=other, email="jane@other.io")
    client.force_login(superuser)

    assert _shown(client.get(CHANGELIST, {"q": "jane@acme.com"})) == ["s_acme"]
    assert _shown(client.get(CHANGELIST, {"q": "JANE@ACME.COM"})) == ["s_acme"]
    assert _shown(client.get(CHANGELIST, {"q": "@acme.com"})) == ["s_acme"]  # three contacts, one row
    assert sorted(_shown(client.get(CHANGELIST, {"q": "jane@"}))) == ["s_acme", "s_other"]
    assert _shown(client.get(CHANGELIST, {"q": "other.io"})) == ["s_other"]
    assert _shown(client.get(CHANGELIST, {"q": "s_acme"})) == ["s_acme"]
    assert _shown(client.get(CHANGELIST, {"q": "acme corp"})) == ["s_acme"]
    assert _shown(client.get(CHANGELIST, {"q": "nobody@nowhere.com"})) == []


def test_search_uses_a_subquery_not_a_join(client, superuser):
    CustomerFactory(external_id="s_1")
    client.force_login(superuser)
    with CaptureQueriesContext(connection) as queries:
        client.get(CHANGELIST, {"q": "jane@acme.com"})
    listing = [q["sql"] for q in queries.captured_queries if "customers_contact" in q["sql"]]
    assert listing
    for sql in listing:
        assert "JOIN \"customers_contact\"" not in sql
        assert "DISTINCT" not in sql.upper().split("FROM")[0]
        assert 'IN (SELECT U0."customer_id"' in sql and 'U0."email" = ' in sql
