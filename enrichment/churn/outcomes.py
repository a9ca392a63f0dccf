"""Next best action from outcomes: which actions' aims were followed by retention.

History records no agent actions, but it does record whether the thing an
action aims for happened. For each action of :mod:`enrichment.rules.actions`
whose aim is observable, the snapshots where its situation held are split by
whether the aim was reached by the next snapshot (about a month later), and
the churn rate within the horizon is compared:

=======================  ================================  ==========================================
action                   situation at a snapshot           aim reached by the next snapshot
=======================  ================================  ==========================================
update_payment_method    a failed or overdue invoice       no overdue invoice
reengage_users           logins under half the month       logins back to 80 % of the previous month
                         before
recover_satisfaction     average CSAT under 3              average CSAT up by 0.5 or more
review_urgent_tickets    an urgent ticket open             no urgent ticket open
=======================  ================================  ==========================================

``effect`` is the churn rate without the aim minus with it (positive: the
accounts that got there churned less). Only accounts still live at the next
snapshot count on either side. Fewer than :data:`MIN_EVIDENCE` accounts on
either side: ``thin`` (the evidence is too thin to say), and ranking leaves
that action where the rules put it. This is an association in the account
base's own history, not a controlled experiment.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from enrichment.churn.dataset import Snapshot
from enrichment.churn.facts import AccountFacts

MIN_EVIDENCE = 20


@dataclass(frozen=True)
class _Aim:
    code: str
    situation: Callable[[AccountFacts], bool]
    reached: Callable[[AccountFacts, AccountFacts], bool]
    aim: str


AIMS = (
    _Aim(
        "update_payment_method",
        lambda f: f.failed_invoices_90d > 0 or f.overdue_invoices > 0,
        lambda _f, n: n.overdue_invoices == 0,
        "billing fixed",
    ),
    _Aim(
        "reengage_users",
        lambda f: f.logins_prev_30d > 0 and f.logins_30d < 0.5 * f.logins_prev_30d,
        lambda f, n: n.logins_30d >= 0.8 * f.logins_prev_30d,
        "logins recovered",
    ),
    _Aim(
        "recover_satisfaction",
        lambda f: f.avg_csat is not None and f.avg_csat < 3,
        lambda f, n: n.avg_csat is not None and n.avg_csat >= (f.avg_csat or 0) + 0.5,
        "CSAT recovered",
    ),
    _Aim("review_urgent_tickets", lambda f: f.urgent_open_tickets > 0, lambda _f, n: n.urgent_open_tickets == 0, "urgent tickets closed"),
)


def action_effects(snapshots: Sequence[Snapshot]) -> list[dict[str, Any]]:
    """One entry per action: counts and churn rates with and without its aim reached, its effect, ``thin``."""
    by_key: dict[tuple[int, dt.date], Snapshot] = {(s.customer_id, s.day): s for s in snapshots}
    days = sorted({s.day for s in snapshots})
    following = dict(itertools.pairwise(days))
    results = []
    for aim in AIMS:
        counts = {True: [0, 0], False: [0, 0]}  # reached -> [accounts, churned]
        for s in snapshots:
            after = by_key.get((s.customer_id, following.get(s.day)))  # type: ignore[arg-type]
            if s.churned is None or after is None or not aim.situation(s.facts):
                continue
            side = counts[aim.reached(s.facts, after.facts)]
            side[0] += 1
            side[1] += int(s.churned)
        (n_yes, c_yes), (n_no, c_no) = counts[True], counts[False]
        thin = min(n_yes, n_no) < MIN_EVIDENCE
        rate_yes, rate_no = (c_yes / n_yes if n_yes else None), (c_no / n_no if n_no else None)
        effect = None if thin or rate_yes is None or rate_no is None else round(rate_no - rate_yes, 4)
        results.append(
            {
                "code": aim.code,
                "aim": aim.aim,
                "reached": n_yes,
                "churn_if_reached": None if rate_yes is None else round(rate_yes, 4),
                "not_reached": n_no,
                "churn_if_not": None if rate_no is None else round(rate_no, 4),
                "effect": effect,
                "thin": thin,
            }
        )
    return results
