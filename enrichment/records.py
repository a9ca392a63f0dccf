"""Writes of computed health: the denormalised latest row and the daily history."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from enrichment.context import EnrichedContext
from enrichment.models import CustomerHealth, HealthDaily

_HEALTH_FIELDS = [
    "health_score",
    "health_label",
    "churn_risk",
    "churn_risk_level",
    "red_flags",
    "yellow_flags",
    "green_flags",
    "flag_codes",
    "plan",
    "mrr",
    "renewal_date",
    "computed_at",
]


def _health_row(customer_pk: int, context: EnrichedContext) -> CustomerHealth:
    health = context.account_health
    sub = context.subscription_details
    return CustomerHealth(
        customer_id=customer_pk,
        health_score=health.health_score,
        health_label=health.health_label,
        churn_risk=health.churn_risk,
        churn_risk_level=health.churn_risk_level,
        red_flags=len(health.red_flags),
        yellow_flags=len(health.yellow_flags),
        green_flags=len(health.green_flags),
        flag_codes=[flag.code for flag in health.flags],
        plan=context.customer_intelligence.plan,
        mrr=context.customer_intelligence.mrr,
        renewal_date=sub.renewal_date,
        computed_at=context.enriched_at,
    )


def customer_health_upsert(*, rows: list[tuple[int, EnrichedContext]]) -> None:
    """Store the latest health of each (customer pk, context) in one statement."""
    if not rows:
        return
    CustomerHealth.objects.bulk_create(
        [_health_row(pk, context) for pk, context in rows],
        update_conflicts=True,
        unique_fields=["customer"],
        update_fields=_HEALTH_FIELDS,
        batch_size=1000,
    )


@transaction.atomic
def health_daily_snapshot(*, day: dt.date) -> int:
    """Copy every customer's latest health into the history for ``day``
    (set-based; idempotent: a second run the same day updates in place)."""
    rows = [
        HealthDaily(
            customer_id=row["customer_id"],
            day=day,
            health_score=row["health_score"],
            churn_risk=row["churn_risk"],
            red_flags=row["red_flags"],
        )
        for row in CustomerHealth.objects.values("customer_id", "health_score", "churn_risk", "red_flags").iterator(chunk_size=5000)
    ]
    HealthDaily.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["customer", "day"],
        update_fields=["health_score", "churn_risk", "red_flags"],
        batch_size=5000,
    )
    return len(rows)
