"""What the database triggers cost a bulk ingest of events.

``python -m bench.ingest [--events 1000000]``: in its own PostgreSQL database
(``enrichment_ingest_bench``, created and migrated when missing), loads the
events three ways, each with the triggers on (the rollup and change capture
of customers/migrations/0004 and 0006) and off (``DISABLE TRIGGER USER``),
and prints events per second:

- ``insert_select``: one ``INSERT ... SELECT generate_series`` statement;
- ``copy``: ``COPY ... FROM STDIN`` through psycopg, in 100,000-row statements;
- ``batches_1000``: multi-row INSERTs of 1,000 rows (what ``bulk_create`` sends).

The events spread over 1,000 customers and 120 days. With the triggers on,
the rollup is checked against the raw events at the end of each run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
DB = "enrichment_ingest_bench"
DSN = f"postgres://postgres@127.0.0.1:5432/{DB}"
CUSTOMERS = 1000

ROWS_SQL = """
SELECT 1 + (g % {customers}), (ARRAY['login','feature_use','api_call','error'])[1 + g % 4],
       CASE WHEN g % 4 = 1 THEN (ARRAY['projects','tasks','reports','exports'])[1 + (g / 4) % 4] ELSE '' END,
       timestamptz '2026-11-01' - ((g::bigint * 7919) % (120 * 86400)) * interval '1 second'
FROM generate_series({start}, {stop}) AS g
"""


def prepare() -> None:
    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB,)).fetchone():
            admin.execute(f"CREATE DATABASE {DB}")
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env |= {"DATABASE_URL": DSN, "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute("TRUNCATE customers_customer RESTART IDENTITY CASCADE")
        conn.execute(
            "INSERT INTO customers_customer (external_id, company_name, domain, industry, region, customer_since, account_owner,"
            " created_at, updated_at) SELECT 'ingest_' || g, 'Company ' || g, '', '', '', date '2024-01-01', '', now(), now()"
            f" FROM generate_series(1, {CUSTOMERS}) AS g"
        )


def reset(conn: psycopg.Connection, triggers: bool) -> None:
    conn.execute("TRUNCATE customers_engagementevent, customers_engagementdaily, customers_customerdatachange")
    conn.execute(f"ALTER TABLE customers_engagementevent {'ENABLE' if triggers else 'DISABLE'} TRIGGER USER")


def load_insert_select(conn: psycopg.Connection, n: int) -> None:
    conn.execute(
        "INSERT INTO customers_engagementevent (customer_id, kind, feature, occurred_at) "
        + ROWS_SQL.format(customers=CUSTOMERS, start=1, stop=n)
    )


def _rows(n: int, start: int = 1):
    return [(1 + g % CUSTOMERS, ("login", "feature_use", "api_call", "error")[g % 4], "", f"2026-10-{1 + g % 30:02d} 12:00:00+00")
            for g in range(start, start + n)]  # fmt: skip


def load_copy(conn: psycopg.Connection, n: int) -> None:
    for start in range(1, n + 1, 100_000):
        rows = _rows(min(100_000, n + 1 - start), start)
        with conn.cursor().copy("COPY customers_engagementevent (customer_id, kind, feature, occurred_at) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def load_batches(conn: psycopg.Connection, n: int) -> None:
    sql = "INSERT INTO customers_engagementevent (customer_id, kind, feature, occurred_at) VALUES " + ",".join(["(%s,%s,%s,%s)"] * 1000)
    with conn.cursor() as cursor:
        for start in range(1, n + 1, 1000):
            rows = _rows(1000, start)
            cursor.execute(sql, [value for row in rows for value in row])


def drift(conn: psycopg.Connection) -> int:
    return conn.execute(
        """SELECT count(*) FROM (
             SELECT customer_id, (occurred_at AT TIME ZONE 'UTC')::date AS day, kind, feature, count(*) AS n
             FROM customers_engagementevent GROUP BY 1, 2, 3, 4
           ) raw FULL JOIN customers_engagementdaily r USING (customer_id, day, kind, feature)
           WHERE raw.n IS DISTINCT FROM r.count"""
    ).fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    prepare()
    results = {}
    with psycopg.connect(DSN) as conn:
        for name, load in (("insert_select", load_insert_select), ("copy", load_copy), ("batches_1000", load_batches)):
            for triggers in (False, True):
                reset(conn, triggers)
                conn.commit()
                started = time.perf_counter()
                load(conn, args.events)
                conn.commit()
                seconds = time.perf_counter() - started
                key = f"{name}_{'with' if triggers else 'without'}_triggers"
                results[key] = round(args.events / seconds)
                check = f", rollup drift {drift(conn)}" if triggers else ""
                print(f"{key:40} {results[key]:>10,} events/s ({seconds:.1f} s{check})", flush=True)
        reset(conn, True)
        conn.commit()
    out = ROOT / "bench" / "results" / "ingest.json"
    out.write_text(json.dumps({"events": args.events, "events_per_s": results}, indent=2) + "\n")
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
