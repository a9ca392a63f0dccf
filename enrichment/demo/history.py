"""Plausible health history for the demo data (``seed_demo``).

The admin's 12-week trend and the dashboard's "biggest drops this week" read
:class:`~enrichment.history.models.HealthDaily`, which the scheduled daily snapshot
fills one day at a time. A fresh demo database has none, so this backfills
``days`` days per customer: a deterministic random walk that ends exactly at
the customer's current (freshly computed) health score, drifting down towards
today for accounts that are at risk now.
"""

from __future__ import annotations

import datetime as dt
import math
import random

import structlog
from django.db.models import Exists, OuterRef
from django.utils import timezone

from customers.models import Customer
from enrichment.engine.service import get_context_service
from enrichment.history.models import CustomerHealth, HealthDaily
from enrichment.history.writer import health_flush

logger = structlog.get_logger(__name__)

_AT_RISK_LABELS = frozenset({"At Risk", "Critical"})


def health_history_needed() -> bool:
    """Whether some customer has no health history yet."""
    return Customer.objects.filter(health_history__isnull=True).exists()


def health_history_backfill(*, days: int = 84, seed: int = 42) -> int:
    """Compute every customer's current context (which writes its
    :class:`CustomerHealth` row), then write ``days`` days of history for each
    customer that has none yet. Returns the number of history rows written.
    Deterministic for a given ``seed``; a second run writes nothing."""
    if days < 1:
        return 0
    get_context_service().refresh_all()  # every context, a chunk at a time: writes the CustomerHealth rows
    health_flush()  # the last chunk's rows may be queued for the background writer

    today = timezone.localdate()
    first_day = today - dt.timedelta(days=days - 1)
    has_history = HealthDaily.objects.filter(customer_id=OuterRef("customer_id"))
    current = (
        CustomerHealth.objects.filter(~Exists(has_history))
        .order_by("customer_id")
        .values_list(
            "customer_id",
            "customer__external_id",
            "customer__customer_since",
            "health_score",
            "health_label",
            "churn_risk",
            "red_flags",
        )
    )
    rows: list[HealthDaily] = []
    for customer_pk, external_id, since, score, label, churn, red in current.iterator():
        rng = random.Random(f"{seed}:{external_id}")
        declining = label in _AT_RISK_LABELS or red > 0
        start = max(first_day, min(since, today))  # no history before the customer existed
        span = (today - start).days + 1
        for offset, value in enumerate(_walk(rng, end=score, days=span, declining=declining)):
            gap = value - score  # > 0: healthier than today
            rows.append(
                HealthDaily(
                    customer_id=customer_pk,
                    day=start + dt.timedelta(days=offset),
                    health_score=value,
                    churn_risk=None if churn is None else round(min(1.0, max(0.0, churn - gap / 80)), 2),
                    red_flags=max(0, red - max(0, math.ceil((gap - 10) / 10))),
                )
            )
    HealthDaily.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True)
    logger.info("demo_history_backfilled", rows=len(rows), days=days)
    return len(rows)


def _walk(rng: random.Random, *, end: int, days: int, declining: bool) -> list[int]:
    """``days`` scores, oldest first, the last one exactly ``end``: a trend line
    plus a Brownian bridge (noise pinned to zero at both ends)."""
    if days == 1:
        return [end]
    if declining:
        start = min(96, end + rng.randint(18, 40))
        shape = 1.6  # most of the fall in the last weeks
        step = 2.2
    else:
        start = max(5, min(98, end + rng.randint(-12, 6)))
        shape = 1.0
        step = 1.3
    noise = [0.0]
    for _ in range(days - 1):
        noise.append(noise[-1] + rng.gauss(0, step))
    last = noise[-1]
    scores = []
    for i in range(days):
        t = i / (days - 1)
        trend = start + (end - start) * t**shape
        bridge = noise[i] - last * t
        scores.append(max(0, min(100, round(trend + bridge))))
    scores[-1] = end
    return scores
