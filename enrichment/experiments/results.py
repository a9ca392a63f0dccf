"""An experiment's results: per strategy, the conversations and each
outcome's rate or mean with its interval, the difference against the control,
and a verdict in plain words.

Which conversations count (intent to treat): every ticket created while the
experiment ran, in the arm its unit is assigned to (the ticket; its
requester's email; its account), plus outcomes reported with a context id of
the experiment that name no ticket. A ticket's outcome comes from the ticket
itself (solved or closed: resolved; reopened at least once; its CSAT) and
from what agents reported for it (POST /api/v1/outcomes/ or the MCP tool),
the report winning where both say something; escalation, handle time and the
agent's rating of the context come from reports only. With a requester or
account unit, a unit's tickets are averaged first, so a busy account counts
once.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from enrichment.experiments.assignment import assign
from enrichment.experiments.models import Experiment, ExperimentMetric, ExperimentUnit
from enrichment.experiments.selectors import experiment_rows
from enrichment.experiments.stats import Difference, Estimate, difference, estimate

LOWER_IS_BETTER = {ExperimentMetric.REOPENED, ExperimentMetric.ESCALATED, ExperimentMetric.HANDLE_TIME}
METRICS = [m.value for m in ExperimentMetric]
WORDS = {
    "resolved": ("resolves", "conversations resolved"),
    "csat": ("gets higher CSAT", "average CSAT"),
    "reopened": ("gets fewer reopenings", "conversations reopened"),
    "escalated": ("escalates less", "conversations escalated"),
    "handle_time": ("is handled faster", "average handle time (seconds)"),
    "context_rating": ("is rated more useful by agents", "agents' rating of the context"),
}


@dataclass(frozen=True, slots=True)
class ArmResult:
    strategy: str
    units: int
    metrics: dict[str, Estimate]
    versus_control: dict[str, Difference | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Results:
    experiment: str
    control: str
    unit: str
    primary_metric: str
    min_sample_per_arm: int
    arms: list[ArmResult]
    verdict: str
    winner: str | None
    computed_at: dt.datetime


def _unit_key(unit: str, row: dict[str, Any]) -> str | None:
    if unit == ExperimentUnit.TICKET:
        return f"ticket:{row['ticket_id']}" if row.get("ticket_id") else None
    if unit == ExperimentUnit.REQUESTER:
        return f"requester:{row['email']}" if row.get("email") else None
    return f"account:{row['customer_id']}" if row.get("customer_id") else None


def _observations(experiment: Experiment, now: dt.datetime) -> dict[str, dict[str, dict[str, list[float]]]]:
    """arm -> unit -> metric -> values, from one read of tickets and reports."""
    found: dict[str, dict[str, dict[str, list[float]]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for row in experiment_rows(experiment=experiment, until=now):
        key = row.get("unit_key") or _unit_key(experiment.unit, row)
        if key is None:
            continue
        arm = row.get("strategy") or assign(experiment.name, experiment.arms, key)
        for metric in METRICS:
            value = row.get(metric)
            if value is not None:
                found[arm][key][metric].append(float(value))
    return found


def experiment_results(*, experiment: Experiment, now: dt.datetime | None = None) -> Results:
    now = now or timezone.now()
    observed = _observations(experiment, min(now, experiment.ends_at or now))
    arms = []
    for arm in experiment.arms:
        units = observed.get(arm["strategy"], {})
        per_metric: dict[str, Estimate] = {}
        for metric in METRICS:
            values = [sum(v) / len(v) for v in (unit.get(metric) for unit in units.values()) if v]
            per_metric[metric] = estimate(values)
        arms.append(ArmResult(arm["strategy"], len(units), per_metric))
    control = arms[0]
    arms = [arms[0]] + [
        ArmResult(a.strategy, a.units, a.metrics, {m: difference(control.metrics[m], a.metrics[m]) for m in METRICS}) for a in arms[1:]
    ]
    verdict, winner = _verdict(experiment, arms)
    return Results(experiment.name, experiment.control, experiment.unit, experiment.primary_metric, experiment.min_sample_per_arm,
                   arms, verdict, winner, now)  # fmt: skip


def _verdict(experiment: Experiment, arms: list[ArmResult]) -> tuple[str, str | None]:
    metric = experiment.primary_metric
    short = min(arm.metrics[metric].n for arm in arms)
    if short < experiment.min_sample_per_arm:
        need = experiment.min_sample_per_arm - short
        return (f"Too early to tell: every strategy needs {experiment.min_sample_per_arm} conversations with a "
                f"{WORDS[metric][1]} figure before any call; the smallest has {short} ({need} to go)."), None  # fmt: skip
    better = -1 if metric in LOWER_IS_BETTER else 1
    calls = []
    for arm in arms[1:]:
        diff = arm.versus_control[metric]
        if diff is None:
            continue
        if diff.always_low > 0 or diff.always_high < 0:
            wins = (diff.delta > 0) == (better > 0)
            calls.append((abs(diff.delta), arm.strategy if wins else experiment.control, arm, diff))
    if not calls:
        return (f"No difference shown yet on {WORDS[metric][1]}: the always-valid intervals still include zero. "
                "Keep it running, or stop: the strategies are close on this measure."), None  # fmt: skip
    _size, winner, arm, diff = max(calls, key=lambda call: call[0])
    scale, unit = (100, " points") if metric in ("resolved", "reopened", "escalated") else (1, "")
    return (f"{winner} {WORDS[metric][0]}: {arm.strategy} vs {experiment.control} {diff.delta * scale:+.1f}{unit} "
            f"(always-valid 95% interval {diff.always_low * scale:+.1f} to {diff.always_high * scale:+.1f})."), winner  # fmt: skip


def results_payload(results: Results) -> dict[str, Any]:
    """The results as JSON (the API and the admin page render this)."""

    def est(e: Estimate) -> dict[str, Any]:
        return {"n": e.n, "value": e.mean, "low": e.low, "high": e.high}

    def dif(d: Difference | None) -> dict[str, Any] | None:
        if d is None:
            return None
        return {"delta": d.delta, "low": d.low, "high": d.high, "always_valid_low": d.always_low, "always_valid_high": d.always_high}

    return {
        "experiment": results.experiment, "control": results.control, "unit": results.unit,
        "primary_metric": results.primary_metric, "min_sample_per_arm": results.min_sample_per_arm,
        "verdict": results.verdict, "winner": results.winner, "computed_at": results.computed_at.isoformat(),
        "arms": [{"strategy": a.strategy, "units": a.units, "metrics": {m: est(e) for m, e in a.metrics.items()},
                  "versus_control": {m: dif(d) for m, d in a.versus_control.items()} or None} for a in results.arms],
    }  # fmt: skip
