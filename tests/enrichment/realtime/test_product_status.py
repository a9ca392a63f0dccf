"""ProductStatusProvider: our incidents and Statuspage's, matched to the
customer by plan, region and features used; the red flag; the published
state shared by every process and how a new incident reaches cached contexts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from enrichment.ops.l1 import reset_l1
from enrichment.realtime.product_status import current_state, incident_affects, product_status_publish, published_version
from enrichment.realtime.statuspage import STATUSPAGE_KEY, StatuspageError, normalize_statuspage
from enrichment.realtime.tasks import fetch_product_status
from tests.enrichment.realtime.conftest import make_customer, sp_component, sp_incident, statuspage_summary
from tests.support.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def incident(**values) -> dict:
    return {"plans": [], "regions": [], "components": [], **values}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, True),  # empty lists: everyone
        ({"plans": ["premium"]}, True),
        ({"plans": ["enterprise"]}, False),
        ({"regions": ["US"]}, True),  # case-insensitive
        ({"regions": ["eu"]}, False),
        ({"components": ["reports"]}, True),
        ({"components": ["Exports"]}, False),  # not used in 30 days
        ({"components": ["api"]}, True),  # API calls count as using "api"
        ({"plans": ["premium"], "regions": ["us"], "components": ["reports", "exports"]}, True),
        ({"plans": ["premium"], "regions": ["eu"], "components": ["reports"]}, False),  # every criterion must hold
    ],
)
def test_incident_matching(values, expected):
    assert incident_affects(incident(**values), plan="premium", region="us", features={"reports", "projects"}, api_active=True) is expected


def test_components_need_the_feature_or_api_activity():
    api_only = incident(components=["api"])
    assert incident_affects(api_only, plan="starter", region="eu", features=(), api_active=False) is False
    assert incident_affects(incident(components=["Data Exports"]), plan="x", region="y", features={"data_exports"}, api_active=False)


def test_the_provider_marks_only_the_incidents_that_touch_the_customer(uncached_service):
    make_customer(external_id="acme_us", plan="premium", region="us", features=["reports", "projects"])
    make_customer(external_id="globex_eu", plan="enterprise", region="eu", features=["exports"])
    now = timezone.now()
    IncidentFactory(title="Enterprise SSO outage", impact="major", components=[], affected_plans=["enterprise"])
    IncidentFactory(title="EU mail delays", impact="minor", components=[], affected_regions=["eu"])
    IncidentFactory(title="Reports are slow", impact="minor", components=["reports"])
    IncidentFactory(title="Everything is slow", impact="critical", components=[])
    IncidentFactory(title="Old and resolved", resolved=True, components=[])
    IncidentFactory(title="Planned for tomorrow", components=[], started_at=now + dt.timedelta(days=1))

    def affecting(external_id):
        status = uncached_service.enrich_context(external_id).product_status
        return {i.title for i in status.active_incidents if i.affects_customer}, status

    titles, status = affecting("acme_us")
    assert titles == {"Reports are slow", "Everything is slow"}
    assert (status.incidents_affecting_customer, status.other_incidents) == (2, 2)
    assert status.status == "major_outage"  # the worst active incident, wherever it is
    assert [i.affects_customer for i in status.active_incidents] == [True, True, False, False]  # affecting first
    assert status.summary == "2 active incidents affect this customer (major outage). 2 other active incidents do not affect them."
    assert {i.title for i in status.active_incidents} >= {"Enterprise SSO outage", "EU mail delays"}
    assert all(i.id.startswith("inc_") and i.source == "internal" for i in status.active_incidents)

    titles, _status = affecting("globex_eu")
    assert titles == {"Enterprise SSO outage", "EU mail delays", "Everything is slow"}


def test_an_affecting_incident_is_a_red_flag_and_a_prompt_line(uncached_service):
    make_customer(external_id="acme_us", plan="premium", region="us", features=["reports"])
    before = uncached_service.enrich_context("acme_us")
    assert "incident_affecting_customer" not in {f.code for f in before.flags}
    IncidentFactory(title="Reports are slow <b>", impact="major", components=["reports"])
    ctx = uncached_service.enrich_context("acme_us")
    flag = next(f for f in ctx.flags if f.code == "incident_affecting_customer")
    assert flag.level == "red" and flag.message == "Active incident affecting this customer: Reports are slow <b> (major)"
    assert ctx.get_summary()["has_critical_issues"] is True
    prompt = ctx.to_prompt_context()
    assert "Product Status:\n- Reports are slow ‹b› (major, investigating)" in prompt
    assert "- Active incident affecting this customer: Reports are slow ‹b› (major)" in prompt
    assert next(a.code for a in ctx.next_actions) == "acknowledge_incident"


def test_an_incident_elsewhere_is_summarised_not_flagged(uncached_service):
    make_customer(external_id="acme_us", plan="premium", region="us", features=["reports"])
    IncidentFactory(title="EU mail delays", impact="major", components=[], affected_regions=["eu"])
    ctx = uncached_service.enrich_context("acme_us")
    assert "incident_affecting_customer" not in {f.code for f in ctx.flags}
    assert ctx.product_status.summary == "1 other active incident does not affect them."
    assert "Product Status:" not in ctx.to_prompt_context()


def test_unpublished_state_is_one_query_per_computation_and_published_state_none(uncached_service, django_capture_on_commit_callbacks):
    make_customer(external_id="acme_us", features=["reports"])
    IncidentFactory(title="Reports are slow", components=["reports"])

    def incident_queries():
        with CaptureQueriesContext(connection) as queries:
            ctx = uncached_service.enrich_context("acme_us")
        return sum("support_incident" in q["sql"] for q in queries.captured_queries), ctx

    assert published_version() is None
    assert incident_queries()[0] == 1
    assert incident_queries()[0] == 1  # never cached from the database: deterministic
    product_status_publish()
    count, ctx = incident_queries()
    assert count == 0  # the published state, memoised in this process
    assert ctx.product_status.incidents_affecting_customer == 1
    assert ctx.sources["product_status"].version == published_version()


def test_a_new_incident_reaches_cached_contexts_through_the_published_version(shared_service, django_capture_on_commit_callbacks):
    make_customer(external_id="acme_us", features=["reports"])
    product_status_publish()
    first = shared_service.enrich_context("acme_us")
    assert first.product_status.active_incidents == ()
    version = first.sources["product_status"].version
    assert version and version == published_version()

    with django_capture_on_commit_callbacks(execute=True):  # the Incident signal republishes on commit
        created = IncidentFactory(title="Reports are slow", impact="major", components=["reports"])
    assert published_version() != version
    reset_l1()  # another process: its L1 copy has expired (CONTEXT_L1_TTL)
    ctx = shared_service.enrich_context("acme_us")
    assert ctx.sources["product_status"].tier == "computed"  # re-versioned, recomputed early (TTL is 60 s)
    assert ctx.sources["account_health"].tier == "computed"  # and the flags derived from it
    assert ctx.sources["engagement_metrics"].tier == "l2"  # the rest came from the shared cache
    assert "incident_affecting_customer" in {f.code for f in ctx.flags}

    with django_capture_on_commit_callbacks(execute=True):
        created.delete()
    reset_l1()
    ctx = shared_service.enrich_context("acme_us")
    assert ctx.product_status.active_incidents == ()
    assert "incident_affecting_customer" not in {f.code for f in ctx.flags}


def test_an_unchanged_republish_keeps_the_version_and_the_cache(shared_service):
    make_customer(external_id="acme_us", features=["reports"])
    IncidentFactory(title="Reports are slow", components=["reports"])
    version = product_status_publish()["version"]
    shared_service.enrich_context("acme_us")
    assert product_status_publish()["version"] == version
    reset_l1()
    ctx = shared_service.enrich_context("acme_us")
    assert ctx.cache_hit is True and ctx.sources["product_status"].tier == "l2"


def test_the_beat_task_fetches_statuspage_and_merges_it(statuspage, uncached_service):
    make_customer(external_id="acme_us", plan="premium", region="us", features=["reports", "dashboards"])
    IncidentFactory(title="Reports are slow", impact="minor", components=["reports"])
    statuspage.body = statuspage_summary(
        indicator="major",
        description="Partial System Outage",
        components=[sp_component("Reports", "partial_outage"), sp_component("Dashboards", "degraded_performance"), sp_component("API")],
        incidents=[
            sp_incident("Dashboards failing to load", impact="major", components=[sp_component("Dashboards", "degraded_performance")]),
            sp_incident("Reports are slow", impact="minor", iid="dup", components=[sp_component("Reports")]),  # ours: dropped
            sp_incident("Webhooks delayed", impact="minor", iid="w1", components=[sp_component("Webhooks")]),
            sp_incident("Fixed already", status="resolved", iid="r1"),
        ],
        maintenances=[{**sp_incident("Database upgrade", impact="maintenance", status="in_progress", iid="m1"), "scheduled_for": None}],
    )
    result = fetch_product_status()
    assert result["statuspage"] == "ok" and statuspage.requests == ["/api/v2/summary.json"]

    status = uncached_service.enrich_context("acme_us").product_status
    by_title = {i.title: i for i in status.active_incidents}
    assert set(by_title) == {"Reports are slow", "Dashboards failing to load", "Webhooks delayed", "Database upgrade"}
    assert by_title["Reports are slow"].source == "internal"
    assert by_title["Dashboards failing to load"].source == "statuspage" and by_title["Dashboards failing to load"].affects_customer
    assert by_title["Dashboards failing to load"].id == "sp_inc1"
    assert not by_title["Webhooks delayed"].affects_customer  # they do not use webhooks
    assert by_title["Database upgrade"].impact == "maintenance" and by_title["Database upgrade"].affects_customer  # no component: all
    assert status.statuspage_indicator == "major" and status.statuspage_description == "Partial System Outage"
    assert status.degraded_components == ("Dashboards", "Reports")
    assert status.status == "partial_outage"


def test_a_failing_statuspage_keeps_the_last_summary_and_still_publishes_our_incidents(statuspage, uncached_service):
    make_customer(external_id="acme_us", features=["dashboards"])
    statuspage.body = statuspage_summary(indicator="minor", incidents=[sp_incident("Dashboards slow", impact="minor")])
    assert fetch_product_status()["statuspage"] == "ok"
    statuspage.status = 503
    IncidentFactory(title="Our own incident", components=[])
    result = fetch_product_status()
    assert result["statuspage"] == "error"
    titles = {i.title for i in uncached_service.enrich_context("acme_us").product_status.active_incidents}
    assert titles == {"Dashboards slow", "Our own incident"}

    statuspage.status, statuspage.body = 200, b"<html>maintenance page</html>"
    assert fetch_product_status()["statuspage"] == "error"  # not JSON: the stored summary stays


def test_without_statuspage_url_nothing_is_fetched(settings):
    settings.STATUSPAGE_URL = None
    assert fetch_product_status()["statuspage"] == "not_configured"
    from django.core.cache import caches

    assert caches["default"].get(STATUSPAGE_KEY) is None


def test_normalize_rejects_bodies_without_a_status_and_caps_strings():
    with pytest.raises(StatuspageError):
        normalize_statuspage({"incidents": []}, fetched_at=timezone.now())
    summary = normalize_statuspage(statuspage_summary(incidents=[sp_incident("x" * 1000)]), fetched_at=timezone.now())
    assert len(summary["incidents"][0]["title"]) == 300


def test_current_state_is_shared_by_a_whole_batch(uncached_service):
    for i in range(3):
        make_customer(external_id=f"c_{i}", features=["reports"])
    IncidentFactory(title="Reports are slow", components=["reports"])
    with CaptureQueriesContext(connection) as queries:
        contexts = uncached_service.enrich_many([f"c_{i}" for i in range(3)])
    assert sum("support_incident" in q["sql"] for q in queries.captured_queries) == 1
    assert all(ctx.product_status.incidents_affecting_customer == 1 for ctx in contexts.values())
    assert current_state()["incidents"][0]["title"] == "Reports are slow"
