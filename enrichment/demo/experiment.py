"""The demo's example experiment: "budget_800" against "default", finished,
with agents' reports on every demo ticket of its window in which the budgeted
context does better on CSAT, so the results page shows a real verdict on a
fresh ``make run``. Deterministic for a seed; created once."""

from __future__ import annotations

import datetime as dt
import random

from enrichment.experiments.assignment import assign
from enrichment.experiments.models import Experiment, ExperimentMetric, ExperimentUnit
from enrichment.experiments.services import experiment_create
from enrichment.history.models import ConversationOutcome
from support.models import Ticket

NAME = "budget-800-vs-default"
ARMS = [{"strategy": "default", "weight": 1}, {"strategy": "budget_800", "weight": 1}]
# CSAT 1..5 weights and resolution rate per arm: the budgeted block is better on both.
CSAT_WEIGHTS = {"default": (5, 8, 17, 35, 35), "budget_800": (2, 4, 10, 34, 50)}
RESOLVED = {"default": 0.76, "budget_800": 0.83}


def demo_experiment_ensure(*, now: dt.datetime, seed: int) -> int:
    """Create the example experiment and its reports when missing; the number of reports created."""
    if Experiment.objects.filter(name=NAME).exists():
        return 0
    experiment = experiment_create(
        name=NAME,
        arms=ARMS,
        unit=ExperimentUnit.TICKET,
        description="Does an 800-character block help agents more than the whole block?",
        primary_metric=ExperimentMetric.CSAT,
        min_sample_per_arm=100,
        starts_at=now - dt.timedelta(days=120),
        ends_at=now - dt.timedelta(days=1),
    )
    rng = random.Random(seed)
    tickets = Ticket.objects.filter(created_at__gte=experiment.starts_at, created_at__lt=experiment.ends_at).order_by("pk")
    reports = []
    for pk, customer_id in tickets.values_list("pk", "customer__external_id"):
        arm = assign(NAME, ARMS, f"ticket:{pk}")
        reports.append(
            ConversationOutcome(
                key=f"demo-{NAME}-{pk}", customer_external_id=customer_id, ticket_id=pk, experiment_id=experiment.pk,
                strategy=arm, unit_key=f"ticket:{pk}", csat=rng.choices(range(1, 6), CSAT_WEIGHTS[arm])[0],
                resolved=rng.random() < RESOLVED[arm], handle_time_seconds=rng.randint(240, 1800),
                context_rating=rng.choices(range(1, 6), (3, 7, 20, 40, 30))[0], recorded_by="demo",
            )
        )  # fmt: skip
    ConversationOutcome.objects.bulk_create(reports, ignore_conflicts=True, batch_size=1000)
    return len(reports)
