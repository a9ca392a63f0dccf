"""Writes of computed health: the denormalised latest row and the daily history."""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction

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
    """Store the latest health of each (customer pk, context) in one statement.

    On PostgreSQL outside a transaction, the single row of a cold enrichment is
    written with ``synchronous_commit`` off for that statement only: one round
    trip, no wait for the WAL flush. This row is derived data that the next
    computation rewrites, so losing the last few hundred milliseconds of such
    writes in a database crash is harmless.
    """
    if not rows:
        return
    if len(rows) == 1 and connection.vendor == "postgresql" and not connection.in_atomic_block:
        _upsert_one_async_commit(_health_row(*rows[0]))
        return
    CustomerHealth.objects.bulk_create(
        [_health_row(pk, context) for pk, context in rows],
        update_conflicts=True,
        unique_fields=["customer"],
        update_fields=_HEALTH_FIELDS,
        batch_size=1000,
    )


def _upsert_one_async_commit(row: CustomerHealth) -> None:
    fields = ["customer_id", *_HEALTH_FIELDS]
    columns = ", ".join(connection.ops.quote_name(CustomerHealth._meta.get_field(f).column) for f in fields)
    updates = ", ".join(f"{column} = EXCLUDED.{column}" for column in columns.split(", ")[1:])
    table = connection.ops.quote_name(CustomerHealth._meta.db_table)
    placeholders = ", ".join(["%s"] * len(fields))
    values = [CustomerHealth._meta.get_field(f).get_db_prep_save(getattr(row, f), connection) for f in fields]
    sql = (
        "SET LOCAL synchronous_commit TO OFF; "
        f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) "
        f"ON CONFLICT ({connection.ops.quote_name('customer_id')}) DO UPDATE SET {updates}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)


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
