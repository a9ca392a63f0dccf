"""Racing writers: the engagement rollup's trigger function takes the rollup
rows a statement changes in key order, so concurrent statements on the same
customers and days wait for each other instead of deadlocking (0004 upserted
in hash order: six producers deadlocked within seconds, see
tests/customers/test_rollup_concurrency.py).

- INSERT: the grouped upsert is ordered by key.
- DELETE: the existing rows are locked in key order before they are changed.
- UPDATE: one ordered upsert takes every key the statement changes, new or
  not (a new one starts at 0), then the counts move.

PostgreSQL only: SQLite serialises writers.
"""

from django.db import migrations

_DAY = "(occurred_at AT TIME ZONE 'UTC')::date"
_MATCH = "r.customer_id = d.customer_id AND r.day = d.day AND r.kind = d.kind AND r.feature = d.feature"


# An UPDATE's net change per key: +1 for each new row, -1 for each old one.
_DELTA = f"""(
            SELECT customer_id, day, kind, feature, sum(n) AS n FROM (
                SELECT customer_id, {_DAY} AS day, kind, feature, 1 AS n FROM new_rows
                UNION ALL
                SELECT customer_id, {_DAY}, kind, feature, -1 FROM old_rows
            ) x GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0
        )"""


def _lock(rows: str) -> str:
    """Lock the existing rollup rows a statement will change, in key order,
    before changing them: two statements racing on the same keys then wait for
    each other instead of deadlocking (inserts upsert in key order too)."""
    return (
        f"PERFORM 1 FROM customers_engagementdaily r JOIN (SELECT DISTINCT customer_id, {_DAY} AS day, kind, feature"
        f" FROM {rows} x) d ON {_MATCH} ORDER BY r.customer_id, r.day, r.kind, r.feature FOR UPDATE OF r;"
    )


PG_FORWARD = f"""
CREATE OR REPLACE FUNCTION customers_engagement_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM customers_engagementdaily;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO customers_engagementdaily AS r (customer_id, day, kind, feature, count)
        SELECT customer_id, {_DAY}, kind, feature, count(*) FROM new_rows GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        ON CONFLICT (customer_id, day, kind, feature) DO UPDATE SET count = r.count + EXCLUDED.count;
    ELSIF TG_OP = 'DELETE' THEN
        {_lock("old_rows")}
        WITH d AS (SELECT customer_id, {_DAY} AS day, kind, feature, count(*) AS n FROM old_rows GROUP BY 1, 2, 3, 4)
        UPDATE customers_engagementdaily r SET count = GREATEST(r.count - d.n, 0) FROM d WHERE {_MATCH};
        DELETE FROM customers_engagementdaily r
        USING (SELECT DISTINCT customer_id, {_DAY} AS day, kind, feature FROM old_rows) d WHERE {_MATCH} AND r.count = 0;
    ELSE  -- UPDATE: only the keys whose count changes (editing a contact moves nothing)
        -- Take every key it changes, existing or new, in key order (a new one starts at 0) ...
        INSERT INTO customers_engagementdaily AS r (customer_id, day, kind, feature, count)
        SELECT customer_id, day, kind, feature, 0 FROM {_DELTA} delta ORDER BY 1, 2, 3, 4
        ON CONFLICT (customer_id, day, kind, feature) DO UPDATE SET count = r.count;
        -- ... then move the counts and drop the rows left at zero.
        UPDATE customers_engagementdaily r SET count = GREATEST(r.count + d.n, 0) FROM {_DELTA} d WHERE {_MATCH};
        DELETE FROM customers_engagementdaily r USING {_DELTA} d WHERE {_MATCH} AND r.count = 0;
    END IF;
    RETURN NULL;
END
$$;
"""

def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("customers", "0006_capture_changes")]

    # Reversing keeps this function: it computes the same counts as 0004's.
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
