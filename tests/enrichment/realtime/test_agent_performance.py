"""AgentPerformanceProvider (the customer's best-rated agents, cached with the
context) and the per-agent figures the API adds with ``?agent=``."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from psycopg import pq

from enrichment.context.sections import AgentStat
from tests.enrichment.api.helpers import assert_error
from tests.enrichment.realtime.conftest import make_customer
from tests.support.factories import TicketFactory

pytestmark = pytest.mark.django_db


def agent(username: str, first: str = "", last: str = ""):
    return get_user_model().objects.create_user(username=username, password="x", first_name=first, last_name=last, is_staff=True)


@pytest.fixture
def team(db):
    customer = make_customer(external_id="acme_agents")
    other = make_customer(external_id="other_agents")
    sam, kim, lee = agent("sam", "Sam", "Solver"), agent("kim", "Kim", "Keen"), agent("lee")
    now = timezone.now()
    for csat in (5, 5, 4):
        TicketFactory(customer=customer, contact=None, solved=True, csat=csat, assignee=sam, created_at=now - dt.timedelta(days=20))
    for csat in (5, 5):
        TicketFactory(customer=customer, contact=None, solved=True, csat=csat, assignee=kim, created_at=now - dt.timedelta(days=3))
    TicketFactory(customer=customer, contact=None, solved=True, csat=2, assignee=lee, created_at=now - dt.timedelta(days=2))
    TicketFactory(customer=customer, contact=None, solved=True, csat=None, assignee=lee)  # not rated: not counted
    TicketFactory(customer=customer, contact=None, csat=None, assignee=kim, created_at=now - dt.timedelta(hours=5))  # open
    TicketFactory(customer=other, contact=None, solved=True, csat=1, assignee=sam, created_at=now - dt.timedelta(days=1))
    return customer, sam, kim, lee


def test_best_agents_by_csat_for_this_customer(team, uncached_service):
    _customer, sam, kim, lee = team
    perf = uncached_service.enrich_context("acme_agents").agent_performance
    assert perf.agents_rated == 3
    assert perf.best_agents == (
        AgentStat(kim.pk, "kim", "Kim Keen", tickets_solved=2, avg_csat=5.0, csat_responses=2),
        AgentStat(sam.pk, "sam", "Sam Solver", tickets_solved=3, avg_csat=4.67, csat_responses=3),
        AgentStat(lee.pk, "lee", "", tickets_solved=1, avg_csat=2.0, csat_responses=1),
    )


def test_no_rating_no_round_trip_of_its_own(uncached_service):
    """The agents' statement goes out with the other statements of the cold
    context (one round trip, see config.db.prefetched), never on its own; with
    no rating it finds nothing."""
    make_customer(external_id="unrated")
    agents_alone = []

    def record(execute, sql, params, many, context):
        if "auth_user" in sql:
            agents_alone.append(connection.connection.pgconn.pipeline_status == pq.PipelineStatus.OFF)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        ctx = uncached_service.enrich_context("unrated")
    assert ctx.agent_performance.best_agents == ()
    assert agents_alone == [False]


def test_the_api_adds_the_asking_agents_own_figures(team, api_clients):
    full, _facing = api_clients
    _customer, sam, kim, _lee = team
    data = full.get("/api/v1/customers/acme_agents/context/", {"agent": "kim"}).json()
    perf = data["agent_performance"]
    assert [a["username"] for a in perf["best_agents"]] == ["kim", "sam", "lee"]
    assert perf["agent"] == {
        "id": kim.pk,
        "username": "kim",
        "name": "Kim Keen",
        "window_days": 7,
        "open_tickets": 1,
        "tickets": 3,
        "solved": 2,
        "median_first_response_hours": 1.0,
        "avg_csat": 5.0,
        "csat_responses": 2,
        "customer_tickets": 3,
        "customer_avg_csat": 5.0,
    }
    by_id = full.get("/api/v1/customers/acme_agents/context/", {"agent": str(sam.pk), "sections": "customer_intelligence"}).json()
    assert by_id["agent_performance"]["agent"]["username"] == "sam"  # present even when sections leave it out
    assert by_id["agent_performance"]["agent"]["tickets"] == 1  # 20 days ago is outside the 7 days
    assert by_id["agent_performance"]["agent"]["customer_avg_csat"] == 4.67
    plain = full.get("/api/v1/customers/acme_agents/context/").json()
    assert "agent" not in plain["agent_performance"]
    lookup = full.get("/api/v1/context/", {"domain": _customer.domain, "agent": "sam"}).json()
    assert lookup["agent_performance"]["agent"]["username"] == "sam"


def test_agent_parameter_errors(team, api_clients):
    full, facing = api_clients
    assert_error(full.get("/api/v1/customers/acme_agents/context/", {"agent": "nobody"}), 400, "invalid_parameter")
    assert_error(full.get("/api/v1/customers/acme_agents/context/", {"agent": "a\x01b"}), 400, "invalid_parameter")
    assert_error(full.get("/api/v1/customers/acme_agents/context/", {"agent": "x" * 151}), 400, "invalid_parameter")
    assert_error(facing.get("/api/v1/customers/acme_agents/context/", {"agent": "kim"}), 403, "permission_denied")
    get_user_model().objects.filter(username="lee").update(is_active=False)
    assert_error(full.get("/api/v1/customers/acme_agents/context/", {"agent": "lee"}), 400, "invalid_parameter")


def test_a_customer_facing_token_never_sees_agent_performance(team, api_clients):
    _full, facing = api_clients
    data = facing.get("/api/v1/customers/acme_agents/context/").json()
    assert "agent_performance" not in json.dumps(data)
