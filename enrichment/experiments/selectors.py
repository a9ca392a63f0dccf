"""Reads for experiments: the running ones (kept per process for a few
seconds, so serving a context costs no query), and the rows an experiment's
results are computed from."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q, Subquery
from django.utils import timezone

from enrichment.experiments.models import Experiment
from enrichment.history.models import ConversationOutcome
from enrichment.ops.l1 import make_l1
from support.models import Ticket, TicketStatus

_RUNNING = make_l1(max_entries=1, ttl=settings.EXPERIMENTS_REFRESH_SECONDS)


@dataclass(frozen=True, slots=True)
class RunningExperiment:
    id: int
    name: str
    arms: tuple[dict[str, Any], ...]
    unit: str
    starts_at: dt.datetime
    ends_at: dt.datetime | None

    def running_at(self, now: dt.datetime) -> bool:
        return self.starts_at <= now and (self.ends_at is None or now < self.ends_at)


def experiments_running(*, now: dt.datetime | None = None) -> list[RunningExperiment]:
    """The experiments running now, oldest start first; one query every
    ``EXPERIMENTS_REFRESH_SECONDS`` per process at most."""
    now = now or timezone.now()
    found = _RUNNING.get("running")
    if found is None:
        rows = Experiment.objects.filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now)).order_by("starts_at", "pk")
        found = [RunningExperiment(e.pk, e.name, tuple(e.arms), e.unit, e.starts_at, e.ends_at) for e in rows]
        _RUNNING.set("running", found)
    return [e for e in found if e.running_at(now)]


def experiments_forget() -> None:
    """Drop this process's list (after an experiment was created or changed here)."""
    _RUNNING.clear()


_SOLVED = (TicketStatus.SOLVED, TicketStatus.CLOSED)


def _flag(value: bool | None) -> float | None:
    return None if value is None else float(value)


def experiment_rows(*, experiment: Experiment, until: dt.datetime) -> Iterator[dict[str, Any]]:
    """One row per ticket created while the experiment ran (its outcome from
    the ticket, overlaid by agents' reports for it), then one per report that
    names the experiment and no such ticket. Two queries, streamed."""
    window = Ticket.objects.filter(created_at__gte=experiment.starts_at, created_at__lt=until)
    reports: dict[int, dict[str, Any]] = {}
    loose: list[dict[str, Any]] = []
    fields = ("ticket_id", "experiment_id", "strategy", "unit_key", "key", "customer_external_id", "resolved", "escalated",
              "reopened", "csat", "handle_time_seconds", "context_rating")  # fmt: skip
    outcomes = ConversationOutcome.objects.filter(
        Q(experiment_id=experiment.pk) | Q(ticket_id__in=Subquery(window.values("pk")))
    ).values_list(*fields)
    for row in outcomes.iterator(chunk_size=5000):
        report = dict(zip(fields, row, strict=True))
        metrics = {
            "resolved": _flag(report["resolved"]), "escalated": _flag(report["escalated"]), "reopened": _flag(report["reopened"]),
            "csat": report["csat"], "handle_time": report["handle_time_seconds"], "context_rating": report["context_rating"],
        }  # fmt: skip
        if report["ticket_id"] is not None:
            reports[report["ticket_id"]] = {**reports.get(report["ticket_id"], {}), **{k: v for k, v in metrics.items() if v is not None}}
        elif report["experiment_id"] == experiment.pk:
            loose.append({"unit_key": report["unit_key"] or f"outcome:{report['key']}", "strategy": report["strategy"] or None,
                          "customer_id": report["customer_external_id"], **metrics})  # fmt: skip
    tickets = window.values_list("pk", "customer__external_id", "contact__email", "status", "reopened_count", "csat")
    for pk, customer_id, email, status, reopened, csat in tickets.iterator(chunk_size=5000):
        row = {"ticket_id": pk, "customer_id": customer_id, "email": email, "resolved": float(status in _SOLVED),
               "reopened": float(reopened > 0), "csat": csat}  # fmt: skip
        yield {**row, **reports.get(pk, {})}
    yield from loose
