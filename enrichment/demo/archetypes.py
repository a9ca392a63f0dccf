"""The archetypes of generated demo customers and the weighted tables they are drawn from (data only).

Customer ``cust_NNNNNN`` number i gets ``ARCHETYPE_PATTERN[(i - 1) % 20]``; its
:class:`ArchetypeProfile` bounds seat usage, feature adoption, tickets and CSAT.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from support.models import TicketPriority

HEALTHY = "healthy"
GROWING = "growing"
DECLINING = "declining"
AT_RISK = "at_risk"
TRIALING = "trialing"
PAST_DUE = "past_due"
CHURNED = "churned"
# Customer i gets ARCHETYPE_PATTERN[(i - 1) % 20]: 35 % healthy, 15 % growing and
# 10 % each of the others, with every archetype present among the first seven.
ARCHETYPE_PATTERN = (
    HEALTHY, AT_RISK, GROWING, CHURNED, TRIALING, DECLINING, PAST_DUE,
    HEALTHY, HEALTHY, GROWING, HEALTHY, AT_RISK, CHURNED, HEALTHY,
    GROWING, TRIALING, DECLINING, PAST_DUE, HEALTHY, HEALTHY,
)  # fmt: skip
# The second trial of each cycle (cust_000016, cust_000036, ...) did not
# convert: its 14-day trial ended 2 to 6 days ago and it is still trialing.
EXPIRED_TRIAL_SLOT = 15
assert ARCHETYPE_PATTERN[EXPIRED_TRIAL_SLOT] == TRIALING


@dataclass(frozen=True)
class ArchetypeProfile:
    """The ranges one archetype's customers are drawn from (``(low, high)`` pairs are inclusive)."""

    seat_usage: tuple[float, float]  # share of purchased seats in use
    features_adopted: tuple[int, int]
    solved_tickets: tuple[int, int]
    open_tickets: tuple[int, int]
    csat_weights: tuple[int, int, int, int, int]  # weights of CSAT 1..5
    category_weights: Mapping[str, int]
    slow_support: bool = False


_DEFAULT_CATEGORY_WEIGHTS = {"how_to": 30, "bug": 25, "feature_request": 15, "billing": 15, "account": 15}

PROFILES: Mapping[str, ArchetypeProfile] = {
    HEALTHY: ArchetypeProfile(
        seat_usage=(0.7, 1.0), features_adopted=(3, 7), solved_tickets=(0, 5), open_tickets=(0, 1),
        csat_weights=(0, 0, 1, 3, 6), category_weights=_DEFAULT_CATEGORY_WEIGHTS,
    ),
    GROWING: ArchetypeProfile(
        seat_usage=(0.9, 1.0), features_adopted=(3, 6), solved_tickets=(1, 6), open_tickets=(0, 1),
        csat_weights=(0, 0, 1, 3, 6), category_weights=_DEFAULT_CATEGORY_WEIGHTS,
    ),
    DECLINING: ArchetypeProfile(
        seat_usage=(0.3, 0.6), features_adopted=(2, 4), solved_tickets=(2, 7), open_tickets=(0, 2),
        csat_weights=(1, 2, 3, 3, 1), category_weights=_DEFAULT_CATEGORY_WEIGHTS,
    ),
    AT_RISK: ArchetypeProfile(
        seat_usage=(0.2, 0.45), features_adopted=(1, 3), solved_tickets=(3, 9), open_tickets=(1, 3),
        csat_weights=(3, 3, 2, 1, 0),
        category_weights={"bug": 50, "billing": 15, "how_to": 15, "account": 10, "feature_request": 10},
        slow_support=True,
    ),
    TRIALING: ArchetypeProfile(
        seat_usage=(0.3, 0.8), features_adopted=(2, 4), solved_tickets=(0, 2), open_tickets=(0, 1),
        csat_weights=(0, 0, 1, 3, 4),
        category_weights={"how_to": 60, "account": 20, "bug": 10, "feature_request": 10, "billing": 0},
    ),
    PAST_DUE: ArchetypeProfile(
        seat_usage=(0.4, 0.8), features_adopted=(2, 5), solved_tickets=(2, 6), open_tickets=(1, 2),
        csat_weights=(1, 2, 3, 3, 1),
        category_weights={"billing": 50, "how_to": 20, "bug": 15, "account": 10, "feature_request": 5},
    ),
    CHURNED: ArchetypeProfile(
        seat_usage=(0.0, 0.4), features_adopted=(1, 3), solved_tickets=(2, 7), open_tickets=(0, 0),
        csat_weights=(3, 3, 2, 1, 1),
        category_weights={"bug": 35, "billing": 30, "how_to": 15, "account": 10, "feature_request": 10},
        slow_support=True,
    ),
}  # fmt: skip

REGION_WEIGHTS = {"us": 50, "eu": 35, "apac": 15}
PLAN_WEIGHTS = {"starter": 30, "professional": 35, "premium": 22, "enterprise": 13}
SEAT_RANGES = {"starter": (2, 10), "professional": (5, 40), "premium": (10, 80), "enterprise": (50, 300)}
FEATURE_POPULARITY = {
    "projects": 10, "tasks": 9, "reports": 7, "dashboards": 6,
    "integrations": 4, "automations": 3, "api": 3, "exports": 3,
}  # fmt: skip
SOLVED_PRIORITY_WEIGHTS = {
    TicketPriority.LOW: 20, TicketPriority.NORMAL: 55, TicketPriority.HIGH: 20, TicketPriority.URGENT: 5,
}  # fmt: skip
OPEN_PRIORITY_WEIGHTS = {TicketPriority.LOW: 30, TicketPriority.NORMAL: 60, TicketPriority.HIGH: 10}
ESCALATED_PRIORITY_WEIGHTS = {TicketPriority.HIGH: 50, TicketPriority.URGENT: 50}
