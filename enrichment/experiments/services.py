"""Choosing the strategy for a served context, and recording outcomes
against what was served."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from enrichment.context.exceptions import UnknownContextId
from enrichment.experiments.assignment import assign, context_id_make, context_id_read
from enrichment.experiments.models import Experiment, ExperimentUnit
from enrichment.experiments.selectors import experiments_forget, experiments_running
from enrichment.experiments.strategies import DEFAULT, Strategy, strategy_get
from enrichment.history.outcomes import OutcomeRecorded, outcome_record


@dataclass(frozen=True, slots=True)
class Serving:
    """How a context is served: the strategy, the experiment that chose it (if
    any), and the ``context_id`` the response carries."""

    strategy: Strategy
    experiment: str | None
    context_id: str

    def to_dict(self) -> dict[str, str | None]:
        return {"context_id": self.context_id, "strategy": self.strategy.name, "experiment": self.experiment}


def serving_choose(*, customer_id: str, ticket_id: int | None = None, email: str | None = None) -> Serving:
    """The strategy for this request: from the oldest running experiment whose
    unit the request names (a ticket; a requester's email, also a ticket's
    requester; the account, always), else ``default``. No query: running
    experiments are kept per process for ``EXPERIMENTS_REFRESH_SECONDS``."""
    keys = {
        ExperimentUnit.TICKET: f"ticket:{ticket_id}" if ticket_id else None,
        ExperimentUnit.REQUESTER: f"requester:{email}" if email else None,
        ExperimentUnit.ACCOUNT: f"account:{customer_id}",
    }
    for experiment in experiments_running():
        unit_key = keys.get(experiment.unit)
        if unit_key is None:
            continue
        name = assign(experiment.name, experiment.arms, unit_key)
        context_id = context_id_make(experiment_id=experiment.id, strategy=name, customer_id=customer_id, unit_key=unit_key)
        return Serving(strategy_get(name), experiment.name, context_id)
    return Serving(strategy_get(DEFAULT), None, context_id_make(experiment_id=None, strategy=DEFAULT, customer_id=customer_id))


def outcome_post(*, key: str, context_id: str = "", ticket_id: int | None = None, customer_id: str = "", recorded_by: str = "",
                 **fields) -> OutcomeRecorded:  # fmt: skip
    """Record an outcome against a served context (``context_id``) or a ticket:
    the experiment, strategy and unit come from the context id."""
    served = context_id_read(context_id) if context_id else None
    if context_id and served is None:
        raise UnknownContextId(context_id)
    return outcome_record(
        key=key,
        customer_external_id=served.customer_id if served else customer_id,
        ticket_id=ticket_id,
        context_id=context_id,
        experiment_id=served.experiment_id if served else None,
        strategy=served.strategy if served else "",
        unit_key=served.unit_key if served else "",
        recorded_by=recorded_by,
        **fields,
    )


@transaction.atomic
def experiment_create(*, name: str, arms: list[dict], unit: str = ExperimentUnit.TICKET, **fields) -> Experiment:
    """A new experiment, validated (:func:`experiment_validate`)."""
    experiment = Experiment(name=name, arms=arms, unit=unit, **fields)
    experiment_validate(experiment)
    experiment.save()
    experiments_forget()
    return experiment


def experiment_validate(experiment: Experiment) -> None:
    """ValueError unless it has two or more arms of known strategies, each
    once, with positive weights."""
    arms = experiment.arms
    if not isinstance(arms, list) or len(arms) < 2:
        raise ValueError("an experiment needs two or more arms")
    names = []
    for arm in arms:
        if not isinstance(arm, dict) or set(arm) != {"strategy", "weight"}:
            raise ValueError('each arm is {"strategy": <name>, "weight": <positive number>}')
        if strategy_get(arm["strategy"]).name != arm["strategy"]:
            raise ValueError(f"unknown strategy {arm['strategy']!r}: declare it in CONTEXT_STRATEGIES")
        if not isinstance(arm["weight"], (int, float)) or arm["weight"] <= 0:
            raise ValueError(f"arm {arm['strategy']!r} needs a positive weight")
        names.append(arm["strategy"])
    if len(set(names)) != len(names):
        raise ValueError("each strategy may appear in one arm only")
