"""Writes of computed health: the denormalised latest row, the context
snapshots (when the substance changed), the daily history, and the pruning
of old snapshots."""

from __future__ import annotations

import datetime as dt
import functools

import psycopg
import structlog
from django.db import connection, transaction
from django.db.models import Max

from enrichment.context.codec import json_bytes
from enrichment.context.enriched import EnrichedContext
from enrichment.context.sections import AccountHealth
from enrichment.history.models import ContextSnapshot, CustomerHealth, HealthDaily
from enrichment.history.snapshots import content_hash, snapshot_data

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


# The rows' columns, as jsonb_to_recordset reads them (cast to the table's types on insert).
_RECORD_COLUMNS = (
    ("customer_id", "bigint"), ("health_score", "integer"), ("health_label", "text"), ("churn_risk", "double precision"),
    ("churn_risk_level", "text"), ("red_flags", "integer"), ("yellow_flags", "integer"), ("green_flags", "integer"),
    ("flag_codes", "jsonb"), ("top_reason", "text"), ("plan", "text"), ("mrr", "numeric"), ("renewal_date", "date"),
    ("computed_at", "timestamptz"), ("content_hash", "text"), ("data", "jsonb"),
)  # fmt: skip


@functools.cache
def _upsert_sql(async_commit: bool) -> str:
    """The one statement (constant: its text is parsed once) upserting the
    health rows given as one JSON array and inserting the changed snapshots."""
    quote = connection.ops.quote_name
    meta, snap = CustomerHealth._meta, ContextSnapshot._meta
    fields = ["customer_id", *_HEALTH_FIELDS, "content_hash"]
    columns = [quote(meta.get_field(f).column) for f in fields]
    health_table = quote(meta.db_table)
    record = ", ".join(f"{name} {kind}" for name, kind in _RECORD_COLUMNS)
    return (
        ("SET LOCAL synchronous_commit TO OFF; " if async_commit else "")
        + f"WITH v AS (SELECT * FROM jsonb_to_recordset(%s::jsonb) AS r ({record})), "
        f"upserted AS (INSERT INTO {health_table} ({', '.join(columns)}) SELECT {', '.join(f'v.{f}' for f in fields)} FROM v "
        f"ON CONFLICT ({quote('customer_id')}) DO UPDATE SET "
        + ", ".join(f"{column} = EXCLUDED.{column}" for column in columns[1:])
        + f") INSERT INTO {quote(snap.db_table)} ({quote('customer_id')}, {quote('created_at')}, {quote('content_hash')}, {quote('data')}) "
        "SELECT v.customer_id, v.computed_at, v.content_hash, v.data FROM v "
        f"WHERE NOT EXISTS (SELECT 1 FROM {health_table} h WHERE h.{quote('customer_id')} = v.customer_id "
        f"AND h.{quote('content_hash')} = v.content_hash)"
    )


def _upsert_one_statement(rows: list[tuple[int, EnrichedContext, dict, str]], *, async_commit: bool) -> None:
    """Every row in one JSON parameter (``jsonb_to_recordset``): the statement's
    text stays the same whatever the number of rows, so neither side parses
    thousands of placeholders."""
    records = []
    for pk, context, data, digest in rows:
        health = context.account_health
        records.append(
            {
                "customer_id": pk,
                "health_score": health.health_score,
                "health_label": health.health_label,
                "churn_risk": health.churn_risk,
                "churn_risk_level": health.churn_risk_level,
                "red_flags": len(health.red_flags),
                "yellow_flags": len(health.yellow_flags),
                "green_flags": len(health.green_flags),
                "flag_codes": [flag.code for flag in health.flags],
                "top_reason": top_reason(health),
                "plan": context.customer_intelligence.plan,
                "mrr": context.customer_intelligence.mrr,
                "renewal_date": context.subscription_details.renewal_date,
                "computed_at": context.enriched_at,
                "content_hash": digest,
                "data": data,
            }
        )
    # Two statements in one round trip need client-side binding, whatever the
    # connection's own cursors use (server-side binding for prepared statements).
    connection.ensure_connection()
    raw = psycopg.ClientCursor(connection.connection)
    cursor = connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
    with cursor:
        cursor.execute(_upsert_sql(async_commit), [json_bytes(records).decode()])


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
