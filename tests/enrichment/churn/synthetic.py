"""Snapshots with a known churn signal (or none), built in memory for the pure training code."""

from __future__ import annotations

import datetime as dt
import math
import random

from enrichment.churn.dataset import Snapshot
from enrichment.churn.facts import AccountFacts

DAYS = [dt.date(2025, month, 1) for month in range(1, 8)]  # the last one is the holdout; horizon 60 days


def true_probability(facts: AccountFacts) -> float:
    """The known signal: errors and a login drop raise churn, annual billing lowers it."""
    logit = -3.2 + 0.9 * math.log1p(facts.errors_30d) + 1.2 * (facts.logins_30d < 0.5 * facts.logins_prev_30d) - 1.5 * facts.annual
    return 1 / (1 + math.exp(-logit))


def synthetic_snapshots(*, accounts: int, signal: bool, seed: int = 7) -> list[Snapshot]:
    rng = random.Random(seed)
    rows = []
    for day in DAYS:
        for cid in range(accounts):
            prev = rng.randint(5, 80)
            facts = AccountFacts(
                logins_30d=round(prev * rng.choice((0.2, 0.4, 0.9, 1.0, 1.1, 1.3))),
                logins_prev_30d=prev,
                active_days_30d=rng.randint(0, 30),
                features_used_30d=rng.randint(0, 8),
                api_calls_30d=rng.randint(0, 500),
                errors_30d=rng.choice((0, 0, 0, 1, 2, 5, 20, 60)),
                tickets_30d=rng.randint(0, 4),
                open_tickets=rng.randint(0, 3),
                urgent_open_tickets=rng.choice((0, 0, 0, 1)),
                avg_csat=rng.choice((None, 2.0, 3.5, 4.5, 5.0)),
                failed_invoices_90d=rng.choice((0, 0, 0, 1)),
                overdue_invoices=rng.choice((0, 0, 1)),
                trialing=rng.random() < 0.05,
                plan=rng.choice(("starter", "professional", "premium")),
                annual=rng.random() < 0.3,
                seats=rng.randint(2, 60),
                tenure_days=rng.randint(20, 1500),
            )
            p = true_probability(facts) if signal else 0.1
            rows.append(Snapshot(customer_id=cid, day=day, facts=facts, churned=rng.random() < p))
    return rows
