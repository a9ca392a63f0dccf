"""The customer change list: health columns from CustomerHealth (no per-row
queries, no enrichment), filters, contact-email search and sorting."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from enrichment.engine.service import get_context_service
from enrichment.history.models import CustomerHealth
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
        reason = "Renewal in 9 days with poor health (20/100)" if i % 3 else "Only 2/9 seats in use"
        health_for(customer, health_label=label, health_score=score, churn_risk_level=level, red_flags=i % 3,
                   yellow_flags=1, top_reason=reason)  # fmt: skip


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
    assert html.count('class="cc-reason cc-reason-') == 50  # the top reason under each badge

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


def test_default_order_is_by_urgency(client, superuser, filter_data):
    """Critical first, then red flags, then At Risk, then the rest; the
    soonest renewal first within each; never computed last."""
    today = timezone.localdate()
    health_for(CustomerFactory(external_id="u_red_late"), health_label="Fair", health_score=62, red_flags=1,
               renewal_date=today + dt.timedelta(days=200))  # fmt: skip
    health_for(CustomerFactory(external_id="u_crit_late"), health_label="Critical", health_score=10, red_flags=3,
               renewal_date=today + dt.timedelta(days=300))  # fmt: skip
    health_for(CustomerFactory(external_id="u_risk_norenew"), health_label="At Risk", health_score=50, renewal_date=None)
    health_for(CustomerFactory(external_id="u_good_soon"), health_label="Good", health_score=95,
               renewal_date=today + dt.timedelta(days=1))  # fmt: skip
    client.force_login(superuser)
    shown = _shown(client.get(CHANGELIST))
    assert shown == [
        "f_crit",  # Critical, renews in 3 d
        "u_crit_late",  # Critical, renews in 300 d
        "f_risk",  # At Risk with a red flag, 20 d
        "u_red_late",  # Fair with a red flag, 200 d
        "u_risk_norenew",  # At Risk without red flags, no renewal date
        "f_past",  # the rest by renewal: passed 2 d ago
        "u_good_soon",
        "f_fair",
        "f_good",
        "f_none",  # never computed
    ]
    # A column header still sorts by that column.
    columns = list(client.get(CHANGELIST).context["cl"].list_display)
    by_score = _shown(client.get(CHANGELIST, {"o": str(columns.index("health_badge"))}))
    assert by_score[:4] == ["u_crit_late", "f_crit", "f_risk", "u_risk_norenew"]


def test_top_reason_under_the_badge(client, superuser):
    red = CustomerFactory(external_id="r_red", company_name="Red Co")
    health_for(red, health_label="Critical", health_score=12, red_flags=2, yellow_flags=1,
               top_reason="Payment failed - subscription past due")  # fmt: skip
    yellow = CustomerFactory(external_id="r_yellow", company_name="Yellow Co")
    health_for(yellow, health_label="Fair", health_score=66, yellow_flags=1, top_reason="Only 9/25 seats in use")
    health_for(CustomerFactory(external_id="r_none", company_name="Calm Co"), top_reason="")
    client.force_login(superuser)
    response = client.get(CHANGELIST)
    html = response.content.decode()
    assert (
        '<span class="cc-badge cc-critical" title="Health score 12 of 100">12 · Critical</span>'
        '<span class="cc-reason cc-reason-red" title="Payment failed - subscription past due">'
        "Payment failed - subscription past due</span>"
    ) in html
    assert '<span class="cc-reason cc-reason-yellow" title="Only 9/25 seats in use">Only 9/25 seats in use</span>' in html
    assert html.count('class="cc-reason ') == 2


def test_the_stored_top_reason_is_the_first_red_else_yellow_flag(client, superuser):
    """Written by the context service with the rest of the health row."""
    call_command("seed_demo", customers=12, stdout=StringIO())
    stored = dict(CustomerHealth.objects.values_list("customer__external_id", "top_reason"))
    for external_id in ("customer_123", "customer_at_risk"):
        health = get_context_service().enrich_context(external_id, force_refresh=True).account_health
        expected = (health.red_flags or health.yellow_flags or ("",))[0]
        assert CustomerHealth.objects.get(customer__external_id=external_id).top_reason == expected
    assert stored["customer_123"] == ""  # green flags only
    assert stored["customer_at_risk"].startswith("Payment failed")
    client.force_login(superuser)
    shown = _shown(client.get(CHANGELIST))
    assert shown[0] == "customer_at_risk" or CustomerHealth.objects.get(customer__external_id=shown[0]).health_label == "Critical"
