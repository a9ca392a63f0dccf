"""Loading a large data set fast, and still exactly as the triggers would have it (the xl scale).

Loaded the ordinary way, every inserted event costs more than its row: the
statement-level triggers (engagement rollup, change capture) read the whole
statement's transition table, the deferred foreign-key checks probe an index
once per row, and eight indexes take a random insert each. At 50,000,000
events that is hours. :func:`bulk_load` does, in one transaction:

1. ``session_replication_role = replica`` (transaction-local, so nothing leaks
   if it fails): no trigger fires, foreign-key checks (triggers too) included.
   The generator's keys are right by construction (identities restarted).
2. The secondary (non-unique) indexes of the loaded tables are dropped, their
   definitions kept; primary keys and unique indexes stay (integrity; their
   keys mostly arrive in order or are NULL).
3. The generator's statements (``bench.datagen.STEPS``).
4. The rollup in one grouped statement: per customer, UTC day of
   ``occurred_at``, kind and feature, ``count(*)``, the insert trigger's own
   grouping (customers 0007). Over an empty rollup the trigger's upserts, one
   per statement, add up to exactly this (tests/bench/test_bulk.py replays the
   events through the triggers and compares).
5. The indexes again, each built once from sorted data (``maintenance_work_mem``).

Change capture is not replayed: ``customers_customerdatachange`` is a queue of
changes for the change listener, and a freshly generated data set has none
pending. :func:`rollup_check` then compares the rollup with the events, for a
sample of customers, with the project's own verifier (``customers.rollup``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from django.db import connection, transaction

LOADED_TABLES = (
    "customers_customer",
    "customers_contact",
    "billing_subscription",
    "billing_invoice",
    "support_ticket",
    "customers_engagementevent",
    "customers_engagementdaily",
)

# Transaction-local (set_config(..., true)): gone at commit or rollback.
BULK_SETTINGS = {"session_replication_role": "replica", "work_mem": "512MB", "maintenance_work_mem": "2GB"}

ROLLUP_SQL = """
INSERT INTO customers_engagementdaily (customer_id, day, kind, feature, count)
SELECT customer_id, (occurred_at AT TIME ZONE 'UTC')::date, kind, feature, count(*)
FROM customers_engagementevent GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
"""

# The loaded tables' non-unique indexes that back no constraint (a partitioned
# table's own: dropping it drops its partitions' indexes). Unique ones stay:
# they are integrity (a partial UniqueConstraint is a unique index only).
SECONDARY_INDEXES = """
SELECT i.relname, pg_get_indexdef(x.indexrelid)
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
WHERE x.indrelid = ANY(%s::regclass[]) AND NOT x.indisunique
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid AND k.conrelid = x.indrelid)
ORDER BY x.indrelid::regclass::text, i.relname
"""


def secondary_indexes() -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of the loaded tables' secondary indexes."""
    with connection.cursor() as cursor:
        cursor.execute(SECONDARY_INDEXES, (list(LOADED_TABLES),))
        # A partitioned table's index reads "ON ONLY t": built on "t" it covers the partitions too.
        return [(name, definition.replace(" ON ONLY ", " ON ", 1)) for name, definition in cursor.fetchall()]


def bulk_load(steps: Sequence[tuple[str, str]], params: dict, log: Callable[[str], object] = print) -> dict[str, dict[str, float]]:
    """Run ``steps`` (name, SQL) with triggers off and secondary indexes
    dropped, then build the rollup and the indexes; one transaction.
    Returns {"steps": {name: seconds}, "indexes": {index: seconds}}."""
    seconds: dict[str, float] = {}
    index_seconds: dict[str, float] = {}

    def timed(name: str, sql: str, args=None, into: dict[str, float] = seconds) -> None:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql, args)
        into[name] = round(time.perf_counter() - started, 2)
        log(f"  {name}: {into[name]:.1f}s")

    with transaction.atomic():
        with connection.cursor() as cursor:
            for name, value in BULK_SETTINGS.items():
                cursor.execute("SELECT set_config(%s, %s, true)", (name, value))
        indexes = secondary_indexes()
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for name, _definition in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
        seconds["drop indexes"] = round(time.perf_counter() - started, 2)
        for name, sql in steps:
            timed(name, sql, params if "%(" in sql else None)
        timed("rollup (one grouped statement)", ROLLUP_SQL)
        started = time.perf_counter()
        for name, definition in indexes:
            timed(name, definition, into=index_seconds)
        seconds[f"indexes ({len(indexes)})"] = round(time.perf_counter() - started, 2)
    return {"steps": seconds, "indexes": index_seconds}


def rollup_check(sample: int = 2000) -> dict[str, int]:
    """Drift between the rollup and the events (customers.rollup, all
    history) for ``sample`` random customers plus bench_heavy and bench_light."""
    from customers.rollup import engagement_rollup_drift

    with connection.cursor() as cursor:
        cursor.execute(
            "(SELECT id FROM customers_customer WHERE external_id IN ('bench_heavy', 'bench_light'))"
            " UNION (SELECT id FROM customers_customer ORDER BY random() LIMIT %s)",
            (sample,),
        )
        pks = sorted(row[0] for row in cursor.fetchall())
    drift = engagement_rollup_drift(since=None, customer_pks=pks)
    return {"customers": len(pks), "drift_keys": drift.keys, "missing": drift.missing, "extra": drift.extra, "wrong": drift.wrong}
