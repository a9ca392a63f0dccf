"""Strategies and experiments through the API: every served context says
which strategy built it; outcomes are recorded against it; results read back."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from enrichment.experiments.assignment import assign, context_id_read
from enrichment.experiments.models import Experiment
from enrichment.experiments.results import experiment_results
from enrichment.experiments.selectors import experiments_forget
from enrichment.experiments.services import experiment_create
from enrichment.history.models import ConversationOutcome
from support.models import Ticket
from tests.enrichment.api.helpers import ACME, assert_error
from tests.support.factories import TicketFactory

pytestmark = pytest.mark.django_db
ARMS = [{"strategy": "default", "weight": 1}, {"strategy": "budget_800", "weight": 1}]


@pytest.fixture
def account_experiment(demo):
    Experiment.objects.all().delete()  # the demo's finished one is not running anyway
    experiment = experiment_create(name="budget-by-account", arms=ARMS, unit="account", starts_at=timezone.now() - dt.timedelta(hours=1))
    yield experiment
    experiments_forget()


def test_without_an_experiment_every_context_is_the_default_strategy(demo, api):
    data = api.get(f"/api/v1/customers/{ACME}/context/").json()
    assert (data["strategy"], data["experiment"]) == ("default", None)
    served = context_id_read(data["context_id"])
    assert (served.customer_id, served.strategy, served.experiment_id) == (ACME, "default", None)
    prompt = api.get(f"/api/v1/customers/{ACME}/context/prompt/")
    assert prompt["X-Context-Strategy"] == "default" and context_id_read(prompt["X-Context-Id"]).customer_id == ACME


def test_a_running_experiment_chooses_the_strategy_stickily(account_experiment, api, cf_api):
    for customer_id in ("customer_123", "customer_at_risk", "customer_trial"):
        expected = assign("budget-by-account", ARMS, f"account:{customer_id}")
        first = api.get(f"/api/v1/customers/{customer_id}/context/").json()
        again = api.get(f"/api/v1/customers/{customer_id}/context/").json()  # a cache hit: the rendering is memoised per strategy
        for data in (first, again):
            assert (data["strategy"], data["experiment"]) == (expected, "budget-by-account")
            assert context_id_read(data["context_id"]).experiment_id == account_experiment.pk
            if expected == "budget_800":
                assert len(data["prompt"]) <= 800
        facing = cf_api.get(f"/api/v1/customers/{customer_id}/context/").json()
        assert facing["strategy"] == expected and "Health Score" not in facing["prompt"]
    assert first["context_id"] != again["context_id"]  # one id per context served


def test_outcomes_are_idempotent_and_attributed(account_experiment, api):
    served = api.get(f"/api/v1/customers/{ACME}/context/").json()
    body = {"key": "conv-1", "context_id": served["context_id"], "resolved": True, "csat": 4, "context_rating": 5}
    first = api.post("/api/v1/outcomes/", body, format="json")
    again = api.post("/api/v1/outcomes/", {**body, "csat": 1}, format="json")
    assert (first.status_code, first.json()) == (201, {"key": "conv-1", "created": True})
    assert (again.status_code, again.json()) == (200, {"key": "conv-1", "created": False})
    stored = ConversationOutcome.objects.get(key="conv-1")
    assert (stored.experiment_id, stored.strategy, stored.customer_external_id, stored.csat) == (
        account_experiment.pk, served["strategy"], ACME, 4,
    )  # fmt: skip


def test_outcome_errors(demo, api):
    assert_error(api.post("/api/v1/outcomes/", {"key": "k", "context_id": "ctx1.forged.0000"}, format="json"), 404, "context_not_found")
    assert_error(api.post("/api/v1/outcomes/", {"key": "k", "ticket_id": 987654321}, format="json"), 404, "customer_not_found")
    assert_error(api.post("/api/v1/outcomes/", {"key": "k"}, format="json"), 400, "invalid_request")
    assert_error(api.post("/api/v1/outcomes/", {"key": "k", "ticket_id": 1, "csat": 9}, format="json"), 400, "invalid_request")
    assert not ConversationOutcome.objects.filter(key="k").exists()


def test_ticket_outcomes_are_joined_without_reports(demo, api):
    experiment = experiment_create(
        name="by-ticket", arms=ARMS, unit="ticket", primary_metric="resolved", min_sample_per_arm=1,
        starts_at=timezone.now() - dt.timedelta(minutes=5),
    )  # fmt: skip
    acme = Ticket.objects.filter(customer__external_id=ACME).first().customer
    made = [TicketFactory(customer=acme, created_at=timezone.now() - dt.timedelta(minutes=1), status=s, csat=c)
            for s, c in (("solved", 5), ("open", None), ("closed", 2), ("solved", 4))]  # fmt: skip
    api.post("/api/v1/outcomes/", {"key": "r1", "ticket_id": made[1].pk, "escalated": True, "resolved": True}, format="json")
    results = api.get("/api/v1/experiments/by-ticket/results/").json()
    by_arm = {arm["strategy"]: arm for arm in results["arms"]}
    expected: dict[str, list] = {"default": [], "budget_800": []}
    for ticket, resolved in zip(made, (1.0, 1.0, 1.0, 1.0), strict=True):  # the open one was reported resolved
        expected[assign("by-ticket", ARMS, f"ticket:{ticket.pk}")].append(resolved)
    for arm, values in expected.items():
        assert by_arm[arm]["units"] == len(values)
        assert by_arm[arm]["metrics"]["resolved"]["n"] == len(values)
    csats = [t.csat for t in made if t.csat is not None]
    assert sum(by_arm[a]["metrics"]["csat"]["n"] for a in by_arm) == len(csats)
    assert sum(by_arm[a]["metrics"]["escalated"]["n"] for a in by_arm) == 1  # reports only
    assert experiment.name == results["experiment"] and results["control"] == "default"


def test_results_endpoint(demo, api, cf_api):
    data = api.get("/api/v1/experiments/budget-800-vs-default/results/").json()
    assert [arm["strategy"] for arm in data["arms"]] == ["default", "budget_800"]
    assert data["verdict"] and data["primary_metric"] == "csat"
    assert_error(api.get("/api/v1/experiments/nope/results/"), 404, "not_found")
    assert_error(cf_api.get("/api/v1/experiments/budget-800-vs-default/results/"), 403, "permission_denied")


def test_too_early_means_no_winner(demo):
    experiment = Experiment.objects.get(name="budget-800-vs-default")
    experiment.min_sample_per_arm = 10_000
    results = experiment_results(experiment=experiment)
    assert results.winner is None and results.verdict.startswith("Too early to tell")
