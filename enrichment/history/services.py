"""Writes of computed health: the denormalised latest row, the context
snapshots (when the substance changed), the daily history, and the pruning
of old snapshots."""

from __future__ import annotations

import datetime as dt

import psycopg
import structlog
from django.db import connection, transaction
from django.db.models import Max

from enrichment.context.enriched import EnrichedContext
from enrichment.context.sections import AccountHealth
from enrichment.history.models import ContextSnapshot, CustomerHealth, HealthDaily
from enrichment.history.snapshots import compact_json, content_hash, snapshot_data

logger = structlog.get_logger(__name__)
TOP_REASON_LIMIT = 200


def top_reason(health: AccountHealth) -> str:
    """Why the account needs attention, in one line: its first red flag's
    message, else its first yellow one, else nothing (capped to the column)."""
    messages = health.red_flags or health.yellow_flags
    if not messages:
        return ""
    text = messages[0]
    return text if len(text) <= TOP_REASON_LIMIT else text[: TOP_REASON_LIMIT - 1] + "…"

_HEALTH_FIELDS = [
    "health_score",
    "health_label",
    "churn_risk",
    "churn_risk_level",
    "red_flags",
    "yellow_flags",
    "green_flags",
    "flag_codes",
    "top_reason",
    "plan",
    "mrr",
    "renewal_date",
    "computed_at",
]


def _health_row(customer_pk: int, context: EnrichedContext, digest: str = "") -> CustomerHealth:
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
        top_reason=top_reason(health),
        plan=context.customer_intelligence.plan,
        mrr=context.customer_intelligence.mrr,
        renewal_date=sub.renewal_date,
        computed_at=context.enriched_at,
        content_hash=digest,
    )


def customer_health_upsert(*, rows: list[tuple[int, EnrichedContext]]) -> None:
    """Store the latest health of each (customer pk, context), and a
    :class:`ContextSnapshot` for each context whose substance changed
    (see :mod:`enrichment.history.snapshots`), in one statement.

    On PostgreSQL it is one round trip: a data-modifying CTE upserts the
    health rows while the outer ``INSERT ... SELECT ... WHERE NOT EXISTS``
    compares each new ``content_hash`` with the row's previous one (every part
    of the statement sees the table as it was before it). Outside a
    transaction ``synchronous_commit`` is off for that statement only (no wait
    for the WAL flush): these rows are derived data that the next computation
    rewrites, so losing the last few hundred milliseconds of them in a
    database crash is harmless. Elsewhere (SQLite) it is a read of the
    previous hashes, a ``bulk_create(update_conflicts=True)`` and a
    ``bulk_create`` of the snapshots.
    """
    if not rows:
        return
    prepared = []
    for pk, context in rows:
        data = snapshot_data(context)
        prepared.append((pk, context, data, content_hash(data)))
    if connection.vendor == "postgresql":
        for start in range(0, len(prepared), 1000):
            _upsert_one_statement(prepared[start : start + 1000], async_commit=not connection.in_atomic_block)
        return
    with transaction.atomic():
        previous = dict(CustomerHealth.objects.filter(customer_id__in=[p[0] for p in prepared]).values_list("customer_id", "content_hash"))
        CustomerHealth.objects.bulk_create(
            [_health_row(pk, context, digest) for pk, context, _data, digest in prepared],
            update_conflicts=True,
            unique_fields=["customer"],
            update_fields=[*_HEALTH_FIELDS, "content_hash"],
            batch_size=1000,
        )
        ContextSnapshot.objects.bulk_create(
            [
                ContextSnapshot(customer_id=pk, created_at=context.enriched_at, content_hash=digest, data=data)
                for pk, context, data, digest in prepared
                if previous.get(pk) != digest
            ],
            batch_size=1000,
        )


def _upsert_one_statement(rows: list[tuple[int, EnrichedContext, dict, str]], *, async_commit: bool) -> None:
    meta = CustomerHealth._meta
    fields = ["customer_id", *_HEALTH_FIELDS, "content_hash"]
    quote = connection.ops.quote_name
    columns = [quote(meta.get_field(f).column) for f in fields]
    codes_field = meta.get_field("flag_codes")
    values: list = []
    snapshots: list = []
    for pk, context, data, digest in rows:
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
            top_reason(health),
            context.customer_intelligence.plan,
            context.customer_intelligence.mrr,
            context.subscription_details.renewal_date,
            context.enriched_at,
            digest,
        ]
        snapshots += [pk, context.enriched_at, digest, compact_json(data)]
    health_table = quote(meta.db_table)
    snap = ContextSnapshot._meta
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    snap_row = "(%s::bigint, %s::timestamptz, %s::varchar, %s::jsonb)"
    sql = (
        ("SET LOCAL synchronous_commit TO OFF; " if async_commit else "")
        + f"WITH upserted AS (INSERT INTO {health_table} ({', '.join(columns)}) VALUES {', '.join([row_sql] * len(rows))} "
        f"ON CONFLICT ({quote('customer_id')}) DO UPDATE SET "
        + ", ".join(f"{column} = EXCLUDED.{column}" for column in columns[1:])
        + f") INSERT INTO {quote(snap.db_table)} ({quote('customer_id')}, {quote('created_at')}, {quote('content_hash')}, {quote('data')}) "
        f"SELECT v.customer_id, v.created_at, v.content_hash, v.data FROM (VALUES {', '.join([snap_row] * len(rows))}) "
        "AS v (customer_id, created_at, content_hash, data) "
        f"WHERE NOT EXISTS (SELECT 1 FROM {health_table} h WHERE h.{quote('customer_id')} = v.customer_id "
        f"AND h.{quote('content_hash')} = v.content_hash)"
    )
    # Two statements in one round trip need client-side binding, whatever the
    # connection's own cursors use (server-side binding for prepared statements).
    connection.ensure_connection()
    raw = psycopg.ClientCursor(connection.connection)
    cursor = connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
    with cursor:
        cursor.execute(sql, values + snapshots)


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


@transaction.atomic
def context_snapshots_prune(*, now: dt.datetime, retention_days: int) -> int:
    """Delete the snapshots older than ``retention_days`` (none when it is 0 or
    less), keeping each customer's latest one so the changes API always has a
    baseline. Returns how many were deleted."""
    if retention_days <= 0:
        return 0
    cutoff = now - dt.timedelta(days=retention_days)
    latest = ContextSnapshot.objects.values("customer_id").annotate(last=Max("created_at")).filter(last__lt=cutoff).values("last")
    deleted, _ = ContextSnapshot.objects.filter(created_at__lt=cutoff).exclude(created_at__in=latest).delete()
    (logger.info if deleted else logger.debug)("context_snapshots_pruned", deleted=deleted)
    return deleted
