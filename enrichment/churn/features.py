"""The churn model's features: numbers computed from :class:`AccountFacts`,
each with the words that explain it to an agent.

A feature is a transformation of the facts chosen so that a linear model on
standardised features makes sense (counts on a log scale, ratios as log
ratios, caps against outliers). Plan codes become one indicator each
(``plan:<code>``) for the plans seen in training.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from enrichment.churn.facts import AccountFacts

PLAN_PREFIX = "plan:"


@dataclass(frozen=True, slots=True)
class Feature:
    name: str
    label: str  # what it is, in plain words
    value: Callable[[AccountFacts], float]
    shown: Callable[[AccountFacts], str]  # the account's fact behind it, in plain words


def _n(count: int, noun: str, rest: str = "") -> str:
    """ "1 open ticket", "3 open tickets" (+ ``rest``)."""
    return f"{count} {noun}{'' if count == 1 else 's'}{rest}"


def _per_seat(f: AccountFacts) -> float:
    return f.logins_30d / max(1, f.seats)


def _trend(f: AccountFacts) -> str:
    if not f.logins_prev_30d:
        return "no logins in the previous 30 days" if not f.logins_30d else "logins resumed after a silent month"
    return f"logins {round((f.logins_30d - f.logins_prev_30d) / f.logins_prev_30d * 100):+d}% vs the previous 30 days"


FEATURES: tuple[Feature, ...] = (
    Feature(
        "logins_per_seat",
        "logins per seat in 30 days",
        lambda f: math.log1p(_per_seat(f)),
        lambda f: f"{_per_seat(f):.1f} logins per seat in 30 days",
    ),
    Feature("login_trend", "login trend vs the previous 30 days", lambda f: math.log((f.logins_30d + 1) / (f.logins_prev_30d + 1)), _trend),
    Feature(
        "active_days",
        "days with a login in 30 days",
        lambda f: f.active_days_30d / 30,
        lambda f: f"logins on {f.active_days_30d} of the last 30 days",
    ),
    Feature(
        "features_used",
        "features used in 30 days",
        lambda f: min(f.features_used_30d, 10),
        lambda f: _n(f.features_used_30d, "feature", " used in 30 days"),
    ),
    Feature(
        "api_calls", "API calls in 30 days", lambda f: math.log1p(f.api_calls_30d), lambda f: _n(f.api_calls_30d, "API call", " in 30 days")
    ),
    Feature("errors", "errors in 30 days", lambda f: math.log1p(f.errors_30d), lambda f: _n(f.errors_30d, "error", " in 30 days")),
    Feature("tickets_30d", "tickets in 30 days", lambda f: math.log1p(f.tickets_30d), lambda f: _n(f.tickets_30d, "ticket", " in 30 days")),
    Feature("open_tickets", "open tickets", lambda f: min(f.open_tickets, 10), lambda f: _n(f.open_tickets, "open ticket")),
    Feature(
        "urgent_open_tickets",
        "urgent open tickets",
        lambda f: min(f.urgent_open_tickets, 5),
        lambda f: _n(f.urgent_open_tickets, "urgent open ticket"),
    ),
    Feature(
        "csat_shortfall",
        "CSAT below 5",
        lambda f: 0.0 if f.avg_csat is None else (5 - f.avg_csat) / 4,
        lambda f: "no CSAT ratings" if f.avg_csat is None else f"average CSAT {f.avg_csat:.1f}",
    ),
    Feature(
        "unrated",
        "no CSAT ratings yet",
        lambda f: float(f.avg_csat is None),
        lambda f: "no CSAT ratings" if f.avg_csat is None else "CSAT rated",
    ),
    Feature(
        "failed_invoices",
        "failed invoices in 90 days",
        lambda f: min(f.failed_invoices_90d, 3),
        lambda f: _n(f.failed_invoices_90d, "failed invoice", " in 90 days"),
    ),
    Feature(
        "overdue_invoices", "overdue invoices", lambda f: min(f.overdue_invoices, 3), lambda f: _n(f.overdue_invoices, "overdue invoice")
    ),
    Feature("trialing", "in a trial", lambda f: float(f.trialing), lambda f: "in a trial" if f.trialing else "past the trial"),
    Feature("annual", "annual billing", lambda f: float(f.annual), lambda f: "annual billing" if f.annual else "monthly billing"),
    Feature("seats", "seats purchased", lambda f: math.log1p(f.seats), lambda f: _n(f.seats, "seat")),
    Feature(
        "tenure",
        "months as a customer",
        lambda f: math.log1p(f.tenure_days / 30.4),
        lambda f: _n(round(f.tenure_days / 30.4), "month", " as a customer"),
    ),
)
BY_NAME = {feature.name: feature for feature in FEATURES}


def feature_names(plans: Sequence[str]) -> list[str]:
    """The model's columns: the fixed features, then one indicator per plan."""
    return [f.name for f in FEATURES] + [PLAN_PREFIX + plan for plan in plans]


def vectorize(facts: AccountFacts, plans: Sequence[str]) -> list[float]:
    return [f.value(facts) for f in FEATURES] + [float(facts.plan == plan) for plan in plans]


def label_of(name: str) -> str:
    if name.startswith(PLAN_PREFIX):
        return f"{name[len(PLAN_PREFIX) :]} plan"
    return BY_NAME[name].label


def explain(name: str, facts: AccountFacts, contribution: float) -> str:
    """ "0.4 logins per seat in 30 days raises the risk" — one factor in plain words."""
    if name.startswith(PLAN_PREFIX):
        plan = name[len(PLAN_PREFIX) :]
        shown = f"on the {plan} plan" if facts.plan == plan else f"not on the {plan} plan"
    else:
        shown = BY_NAME[name].shown(facts)
    return f"{shown} {'raises' if contribution > 0 else 'lowers'} the risk"
