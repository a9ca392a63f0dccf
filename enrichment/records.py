"""Writes of computed health: the denormalised latest row and the daily history."""

from __future__ import annotations

import datetime as dt

import psycopg
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

    On PostgreSQL outside a transaction the rows are written in one round trip
    with ``synchronous_commit`` off for that statement only (no wait for the WAL
    flush). These rows are derived data that the next computation rewrites, so
    losing the last few hundred milliseconds of them in a database crash is
    harmless. Elsewhere (SQLite, or inside a transaction) it is a plain
    ``bulk_create(update_conflicts=True)``.
    """
    if not rows:
        return
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        for start in range(0, len(rows), 1000):
            _upsert_async_commit(rows[start : start + 1000])
        return
    CustomerHealth.objects.bulk_create(
        [_health_row(pk, context) for pk, context in rows],
        update_conflicts=True,
        unique_fields=["customer"],
        update_fields=_HEALTH_FIELDS,
        batch_size=1000,
    )


def _upsert_async_commit(rows: list[tuple[int, EnrichedContext]]) -> None:
    meta = CustomerHealth._meta
    fields = ["customer_id", *_HEALTH_FIELDS]
    quote = connection.ops.quote_name
    columns = [quote(meta.get_field(f).column) for f in fields]
    codes_field = meta.get_field("flag_codes")
    values: list = []
    for pk, context in rows:
        health = context.account_health
        values += [
            pk,
            health.health_score,
            health.health_label,
            health.churn_risk,
            health.churn_risk_level,
            len(health.red_flags),
            len(health.yellow_flags),
            len(health.green_flags),
            codes_field.get_db_prep_save([flag.code for flag in health.flags], connection),
            context.customer_intelligence.plan,
            context.customer_intelligence.mrr,
            context.subscription_details.renewal_date,
            context.enriched_at,
        ]
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (
        "SET LOCAL synchronous_commit TO OFF; "
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(columns)}) VALUES {', '.join([row_sql] * len(rows))} "
        f"ON CONFLICT ({quote('customer_id')}) DO UPDATE SET "
        + ", ".join(f"{column} = EXCLUDED.{column}" for column in columns[1:])
    )
    # Two statements in one round trip need client-side binding, whatever the
    # connection's own cursors use (server-side binding for prepared statements).
    connection.ensure_connection()
    raw = psycopg.ClientCursor(connection.connection)
    cursor = connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
    with cursor:
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
