"""Generate the benchmark data set inside PostgreSQL (generate_series, set-based
INSERT ... SELECT): no Python row loops, minutes not hours for 5,000,000 events.

Two special customers: ``bench_heavy`` with ``heavy_events`` events and
``bench_light`` with 100. Reused when the data set already has the right size.

full and small load with the database's triggers on (the engagement rollup and
change capture run per statement). xl (``bulk``) loads with them off and the
secondary indexes dropped, then builds the rollup in one grouped statement and
the indexes once (bench/bulk.py). Each generation's time per step and its disk
use are kept in the data set's own ``bench_generation`` table, so a run reusing
the data set reports the figures of the generation that made it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass

from django.db import connection

from bench.bulk import BULK_SETTINGS, bulk_load, rollup_check
from customers.partitions import events_partitions_ensure


@dataclass(frozen=True)
class Scale:
    name: str
    customers: int
    events: int
    heavy_events: int
    tickets: int
    bulk: bool = False  # load with triggers off and indexes built after (bench/bulk.py)
    compare_with: str | None = None  # a scale whose cold p50 is measured in the same run, alternating


SCALES = {
    "full": Scale("full", customers=100_000, events=5_000_000, heavy_events=1_000_000, tickets=500_000),
    "small": Scale("small", customers=2_000, events=120_000, heavy_events=50_000, tickets=10_000),
    # 10x full; bench_heavy keeps 1,000,000 events, so history_1m_vs_100 means the same.
    "xl": Scale("xl", customers=1_000_000, events=50_000_000, heavy_events=1_000_000, tickets=5_000_000, bulk=True, compare_with="full"),
}

STEPS = [
    (
        "plans",
        """
        INSERT INTO billing_plan (code, name, tier, monthly_price_per_seat) VALUES
          ('starter','Starter',1,15), ('professional','Professional',2,30),
          ('premium','Premium',3,50), ('enterprise','Enterprise',4,90)
        ON CONFLICT (code) DO NOTHING
        """,
    ),
    (
        "customers",
        """
        INSERT INTO customers_customer
          (external_id, company_name, domain, industry, region, customer_since, account_owner, created_at, updated_at)
        SELECT CASE i WHEN 1 THEN 'bench_heavy' WHEN 2 THEN 'bench_light' ELSE 'bench_' || lpad(i::text, 7, '0') END,
               'Company ' || i, 'company' || i || '.example',
               (ARRAY['Technology','Software','Retail','Healthcare','Media'])[1 + i %% 5],
               (ARRAY['us','eu','apac'])[1 + i %% 3],
               current_date - (60 + i %% 900), 'Owner ' || (i %% 50), now(), now()
        FROM generate_series(1, %(customers)s) AS i
        """,
    ),
    (
        "contacts",
        """
        INSERT INTO customers_contact (customer_id, email, name, role, created_at)
        SELECT c.id, 'user' || n || '@' || c.domain, 'User ' || n, 'member', now()
        FROM customers_customer c CROSS JOIN generate_series(1, 2) AS n
        """,
    ),
    (
        "subscriptions",
        """
        INSERT INTO billing_subscription
          (customer_id, plan_id, status, billing_cycle, seats_purchased, seats_used, mrr, started_at,
           renewal_date, trial_ends_at, canceled_at, created_at, updated_at)
        SELECT c.id, p.id,
               (ARRAY['active','active','active','active','active','active','trialing','past_due','active','active'])[1 + c.id % 10],
               CASE WHEN c.id % 4 = 0 THEN 'annual' ELSE 'monthly' END,
               10 + c.id % 40, 5 + c.id % 30, (10 + c.id % 40) * p.monthly_price_per_seat,
               c.customer_since, current_date + (c.id % 365)::int,
               CASE WHEN c.id % 10 = 6 THEN current_date + (c.id % 14)::int END, NULL, now(), now()
        FROM customers_customer c
        JOIN billing_plan p ON p.tier = 1 + c.id % 4
        """,
    ),
    (
        "invoices",
        """
        INSERT INTO billing_invoice (customer_id, subscription_id, number, amount, status, issued_at, due_at, paid_at)
        SELECT s.customer_id, s.id, 'INV-' || s.id || '-' || m, s.mrr,
               CASE WHEN m = 1 AND s.status = 'past_due' THEN 'failed' WHEN m = 1 THEN 'open' ELSE 'paid' END,
               current_date - 30 * m, current_date - 30 * m + 14,
               CASE WHEN m > 1 THEN current_date - 30 * m + 3 END
        FROM billing_subscription s CROSS JOIN generate_series(1, 3) AS m
        """,
    ),
    (
        "tickets",
        """
        INSERT INTO support_ticket
          (customer_id, contact_id, subject, channel, status, priority, category, created_at,
           first_response_at, resolved_at, csat, assignee_id)
        SELECT t.customer_id, NULL, 'Ticket ' || t.g || ' about ' || t.cat, 'email',
               CASE WHEN t.r < 0.15 THEN 'open' ELSE 'solved' END,
               CASE WHEN t.r < 0.03 THEN 'urgent' WHEN t.r < 0.3 THEN 'high' ELSE 'normal' END,
               t.cat, t.created, t.created + interval '1 hour',
               CASE WHEN t.r >= 0.15 THEN t.created + interval '6 hours' END,
               CASE WHEN t.r >= 0.15 AND t.r < 0.8 THEN 1 + floor(random() * 5)::int END, NULL
        FROM (
          SELECT 1 + (g %% %(customers)s) AS customer_id, g, random() AS r,
                 (ARRAY['billing','bug','how_to','feature_request','account'])[1 + g %% 5] AS cat,
                 now() - (random() * interval '365 days') AS created
          FROM generate_series(1, %(tickets)s) AS g
        ) t
        """,
    ),
    (
        "events (population)",
        """
        INSERT INTO customers_engagementevent (customer_id, contact_id, kind, feature, occurred_at, event_id)
        SELECT 3 + (g %% (%(customers)s - 2)), NULL,
               CASE WHEN g %% 2 = 0 THEN 'login' ELSE 'feature_use' END,
               CASE WHEN g %% 2 = 0 THEN ''
                    ELSE (ARRAY['projects','tasks','reports','dashboards','integrations','automations','api','exports'])[1 + (g / 2) %% 8] END,
               now() - (random() * interval '120 days'), NULL
        FROM generate_series(1, %(population_events)s) AS g
        """,
    ),
    (
        "events (bench_heavy)",
        """
        INSERT INTO customers_engagementevent (customer_id, contact_id, kind, feature, occurred_at, event_id)
        SELECT 1, NULL, CASE WHEN g %% 2 = 0 THEN 'login' ELSE 'feature_use' END,
               CASE WHEN g %% 2 = 0 THEN ''
                    ELSE (ARRAY['projects','tasks','reports','dashboards','integrations','automations','api','exports'])[1 + (g / 2) %% 8] END,
               now() - (random() * interval '365 days'), NULL
        FROM generate_series(1, %(heavy_events)s) AS g
        """,
    ),
    (
        "events (bench_light)",
        """
        INSERT INTO customers_engagementevent (customer_id, contact_id, kind, feature, occurred_at, event_id)
        SELECT 2, NULL, CASE WHEN g % 2 = 0 THEN 'login' ELSE 'feature_use' END,
               CASE WHEN g % 2 = 0 THEN '' ELSE 'reports' END,
               now() - (random() * interval '120 days'), NULL
        FROM generate_series(1, 100) AS g
        """,
    ),
]


# The events' row estimate: the table's own, or its partitions' when it is partitioned.
EVENTS_ESTIMATE = """
SELECT coalesce(sum(greatest(c.reltuples, 0)), 0)::bigint FROM pg_class c
WHERE (c.oid = 'customers_engagementevent'::regclass AND c.relkind <> 'p')
   OR c.oid IN (SELECT relid FROM pg_partition_tree('customers_engagementevent') WHERE isleaf)
"""

TRUNCATE = (
    "TRUNCATE customers_customer, customers_contact, customers_engagementevent, customers_engagementeventkey,"
    " customers_engagementdaily,"
    " billing_subscription, billing_invoice, support_ticket, enrichment_customerhealth,"
    " enrichment_healthdaily RESTART IDENTITY CASCADE"
)

RECORD_TABLE = """
CREATE TABLE IF NOT EXISTS bench_generation (
  scale text PRIMARY KEY, generated_at timestamptz NOT NULL DEFAULT now(), record jsonb NOT NULL)
"""


def existing_scale() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT count(*) FROM customers_customer), (SELECT count(*) FROM support_ticket), ({EVENTS_ESTIMATE})"
        )
        customers, tickets, events = cursor.fetchone()
    return {"customers": customers, "events": max(events, 0), "tickets": tickets}


def exact_scale() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM customers_customer), (SELECT count(*) FROM customers_engagementevent),"
            " (SELECT count(*) FROM support_ticket)"
        )
        customers, events, tickets = cursor.fetchone()
    return {"customers": customers, "events": events, "tickets": tickets}


def generation_record(scale_name: str) -> dict | None:
    """What the generation of this data set recorded (bench_generation), if any."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('bench_generation') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return None
        cursor.execute("SELECT generated_at, record FROM bench_generation WHERE scale = %s", (scale_name,))
        row = cursor.fetchone()
    if row is None:
        return None
    record = row[1] if isinstance(row[1], dict) else json.loads(row[1])
    return {"generated_at": row[0].isoformat(timespec="seconds"), **record}


def _has_size(scale: Scale, have: dict[str, int]) -> bool:
    if have["customers"] != scale.customers or have["tickets"] != scale.tickets:
        return False
    if have["events"] < scale.events * 0.95:  # the estimate may be stale (no ANALYZE since a migration rebuilt the table)
        have["events"] = exact_scale()["events"]
    return have["events"] >= scale.events * 0.95


def ensure_data(scale: Scale, log=print) -> dict[str, int]:
    """Create the data set unless one of this size is already there (for a
    bulk scale: and its generation finished, as its record says)."""
    have = existing_scale()
    record = generation_record(scale.name)
    if _has_size(scale, have) and (not scale.bulk or (record is not None and record.get("scale") == asdict(scale))):
        log(f"reusing the data set: {have}")
        return exact_scale()
    generate(scale, have, log)
    return exact_scale()


def generate(scale: Scale, have: dict[str, int], log=print) -> dict:
    """Generate the data set (truncating another one first) and record how
    long each step took and the disk it uses."""
    disk_guard(scale, log)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(RECORD_TABLE)
        cursor.execute("DELETE FROM bench_generation WHERE scale = %s", (scale.name,))
        if have["customers"] or have["events"]:
            log("data set has another size (or an unfinished generation): truncating")
            cursor.execute(TRUNCATE)
            cursor.execute("DELETE FROM bench_generation")  # whichever scale it was
    params = {
        "customers": scale.customers,
        "tickets": scale.tickets,
        "heavy_events": scale.heavy_events,
        "population_events": scale.events - scale.heavy_events - 100,
    }
    # Events go back a year: each month's partition first (PostgreSQL), so that no row goes through the DEFAULT one.
    events_partitions_ensure(since=dt.date.today() - dt.timedelta(days=370))
    if scale.bulk:
        timings = bulk_load(STEPS, params, log=log)
    else:
        timings = {"steps": {}}
        for name, sql in STEPS:
            step_started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(sql, params if "%(" in sql else None)
            timings["steps"][name] = round(time.perf_counter() - step_started, 2)
            log(f"  {name}: {timings['steps'][name]:.1f}s")
    step_started = time.perf_counter()
    with connection.cursor() as cursor:
        # At every scale: the visibility map set and the statistics made, as autovacuum leaves freshly loaded tables in
        # production (it is off on the benchmark machine). Without it, index-only scans fetch every row from the heap.
        # (Inside a transaction, as in the tests, VACUUM cannot run: ANALYZE only.)
        step = "analyze" if connection.in_atomic_block else "vacuum analyze"
        cursor.execute(step.upper() if step == "analyze" else "VACUUM (ANALYZE)")
    timings["steps"][step] = round(time.perf_counter() - step_started, 2)
    log(f"  {step}: {timings['steps'][step]:.1f}s")
    total = round(time.perf_counter() - started, 1)
    check = rollup_check()
    log(f"  rollup check ({check['customers']} customers): {check['drift_keys']} drifted keys")
    if check["drift_keys"]:
        raise RuntimeError(f"the generated rollup differs from the events: {check}")
    record = {
        "scale": asdict(scale),
        "generation_seconds": total,
        "steps_seconds": timings["steps"],
        "index_seconds": timings.get("indexes", {}),
        "method": "bulk: triggers off, indexes after, rollup in one statement" if scale.bulk else "triggers on",
        "settings": BULK_SETTINGS if scale.bulk else {},
        "rollup_check": check,
        "rows": exact_scale(),
        "disk_bytes_after": disk_usage()["disk_bytes"],
    }
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_generation (scale, record) VALUES (%s, %s)", (scale.name, json.dumps(record)))
    log(f"  generated in {total:.0f}s")
    return record


BYTES_PER_EVENT = 480  # the full data set's database size per event (2.3 GB / 5,000,000), all tables and indexes
MIN_FREE_BYTES = int(float(os.environ.get("BENCH_MIN_FREE_GB", "15")) * 1e9)


def disk_guard(scale: Scale, log=print) -> None:
    """Stop before generating when the data set (estimated from full's size per
    event, plus a third for sorts and WAL) would leave less than
    BENCH_MIN_FREE_GB (15) free on PostgreSQL's disk."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('data_directory', true)")
        data_directory = cursor.fetchone()[0]
    if not data_directory or not os.path.isdir(data_directory):
        log("  disk check skipped: PostgreSQL's data directory is not on this machine")
        return
    free = shutil.disk_usage(data_directory).free
    needed = int(scale.events * BYTES_PER_EVENT * 4 / 3)
    log(f"  disk: {free / 1e9:.1f} GB free, the data set needs about {needed / 1e9:.1f} GB")
    if free - needed < MIN_FREE_BYTES:
        raise RuntimeError(
            f"generating {scale.name} would leave {(free - needed) / 1e9:.1f} GB free (< {MIN_FREE_BYTES / 1e9:.0f} GB): stopped"
        )


def disk_usage(top: int = 8) -> dict:
    """The database's size and its largest tables (a partitioned table: its partitions summed)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database()), pg_size_pretty(pg_database_size(current_database()))")
        total, pretty = cursor.fetchone()
        cursor.execute(
            """
            SELECT t.relname, sum(pg_total_relation_size(r.oid)), sum(pg_relation_size(r.oid)), sum(pg_indexes_size(r.oid))
            FROM pg_class t
            CROSS JOIN LATERAL (SELECT t.oid WHERE t.relkind = 'r'
                                UNION ALL SELECT relid FROM pg_partition_tree(t.oid) WHERE isleaf AND t.relkind = 'p') r
            WHERE t.relnamespace = 'public'::regnamespace AND t.relkind IN ('r', 'p') AND NOT t.relispartition
            GROUP BY t.relname ORDER BY 2 DESC LIMIT %s
            """,
            (top,),
        )
        tables = {name: {"total_bytes": int(total_), "table_bytes": int(heap), "index_bytes": int(idx)} for name, total_, heap, idx in cursor}
    return {"disk_bytes": int(total), "disk_pretty": pretty, "disk_tables": tables}
