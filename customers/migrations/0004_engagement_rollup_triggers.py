"""The database keeps the daily engagement rollup, whoever writes the events.

PostgreSQL: statement-level triggers with transition tables, so a bulk load
(``bulk_create``, ``COPY``, ``INSERT ... SELECT``) updates the rollup with one
grouped upsert per statement, not one per row. An UPDATE adds the new
(customer, UTC day, kind, feature) and subtracts the old one, so moving an
event to another day or kind moves its count. TRUNCATE of the events empties
the rollup.

SQLite (the embedded default): row triggers doing the same one row at a time.

Counts never go below zero (a rollup that had drifted before these triggers
cannot make a DELETE of events fail) and rows that reach zero are removed;
``manage.py rollup_verify --fix`` repairs drift from before.
"""

from django.db import migrations

_DAY = "(occurred_at AT TIME ZONE 'UTC')::date"
_MATCH = "r.customer_id = d.customer_id AND r.day = d.day AND r.kind = d.kind AND r.feature = d.feature"

PG_FORWARD = f"""
CREATE OR REPLACE FUNCTION customers_engagement_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM customers_engagementdaily;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO customers_engagementdaily AS r (customer_id, day, kind, feature, count)
        SELECT customer_id, {_DAY}, kind, feature, count(*) FROM new_rows GROUP BY 1, 2, 3, 4
        ON CONFLICT (customer_id, day, kind, feature) DO UPDATE SET count = r.count + EXCLUDED.count;
    ELSIF TG_OP = 'DELETE' THEN
        WITH d AS (SELECT customer_id, {_DAY} AS day, kind, feature, count(*) AS n FROM old_rows GROUP BY 1, 2, 3, 4)
        UPDATE customers_engagementdaily r SET count = GREATEST(r.count - d.n, 0) FROM d WHERE {_MATCH};
        DELETE FROM customers_engagementdaily r
        USING (SELECT DISTINCT customer_id, {_DAY} AS day, kind, feature FROM old_rows) d WHERE {_MATCH} AND r.count = 0;
    ELSE  -- UPDATE: only the keys whose count changes (editing a contact moves nothing)
        WITH delta AS (
            SELECT customer_id, day, kind, feature, sum(n) AS n FROM (
                SELECT customer_id, {_DAY} AS day, kind, feature, 1 AS n FROM new_rows
                UNION ALL
                SELECT customer_id, {_DAY}, kind, feature, -1 FROM old_rows
            ) x GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0
        ), added AS (
            INSERT INTO customers_engagementdaily AS r (customer_id, day, kind, feature, count)
            SELECT customer_id, day, kind, feature, n FROM delta WHERE n > 0
            ON CONFLICT (customer_id, day, kind, feature) DO UPDATE SET count = r.count + EXCLUDED.count
        )
        UPDATE customers_engagementdaily r SET count = GREATEST(r.count + d.n, 0) FROM delta d WHERE d.n < 0 AND {_MATCH};
        DELETE FROM customers_engagementdaily r
        USING (SELECT DISTINCT customer_id, {_DAY} AS day, kind, feature FROM old_rows) d WHERE {_MATCH} AND r.count = 0;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER customers_engagement_rollup_insert AFTER INSERT ON customers_engagementevent
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION customers_engagement_rollup();
CREATE TRIGGER customers_engagement_rollup_update AFTER UPDATE ON customers_engagementevent
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION customers_engagement_rollup();
CREATE TRIGGER customers_engagement_rollup_delete AFTER DELETE ON customers_engagementevent
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION customers_engagement_rollup();
CREATE TRIGGER customers_engagement_rollup_truncate AFTER TRUNCATE ON customers_engagementevent
    FOR EACH STATEMENT EXECUTE FUNCTION customers_engagement_rollup();
"""

PG_BACKWARD = """
DROP TRIGGER IF EXISTS customers_engagement_rollup_insert ON customers_engagementevent;
DROP TRIGGER IF EXISTS customers_engagement_rollup_update ON customers_engagementevent;
DROP TRIGGER IF EXISTS customers_engagement_rollup_delete ON customers_engagementevent;
DROP TRIGGER IF EXISTS customers_engagement_rollup_truncate ON customers_engagementevent;
DROP FUNCTION IF EXISTS customers_engagement_rollup();
"""


def _sqlite_add(row: str) -> str:
    return (
        "INSERT INTO customers_engagementdaily (customer_id, day, kind, feature, count)"
        f" VALUES ({row}.customer_id, date({row}.occurred_at), {row}.kind, {row}.feature, 1)"
        " ON CONFLICT (customer_id, day, kind, feature) DO UPDATE SET count = count + 1;"
    )


def _sqlite_subtract(row: str) -> str:
    match = (
        f"customer_id = {row}.customer_id AND day = date({row}.occurred_at) AND kind = {row}.kind AND feature = {row}.feature"
    )
    return (
        f"UPDATE customers_engagementdaily SET count = max(count - 1, 0) WHERE {match};"
        f" DELETE FROM customers_engagementdaily WHERE {match} AND count = 0;"
    )


SQLITE_FORWARD = [
    "CREATE TRIGGER customers_engagement_rollup_insert AFTER INSERT ON customers_engagementevent"
    f" BEGIN {_sqlite_add('NEW')} END;",
    "CREATE TRIGGER customers_engagement_rollup_delete AFTER DELETE ON customers_engagementevent"
    f" BEGIN {_sqlite_subtract('OLD')} END;",
    "CREATE TRIGGER customers_engagement_rollup_update AFTER UPDATE OF customer_id, occurred_at, kind, feature"
    " ON customers_engagementevent WHEN OLD.customer_id IS NOT NEW.customer_id"
    " OR date(OLD.occurred_at) IS NOT date(NEW.occurred_at) OR OLD.kind IS NOT NEW.kind OR OLD.feature IS NOT NEW.feature"
    f" BEGIN {_sqlite_subtract('OLD')} {_sqlite_add('NEW')} END;",
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS customers_engagement_rollup_{op}" for op in ("insert", "delete", "update")
]


def forward(apps, schema_editor):
    statements = {"postgresql": [PG_FORWARD], "sqlite": SQLITE_FORWARD}.get(schema_editor.connection.vendor)
    if statements is None:
        raise NotImplementedError(f"no engagement rollup triggers for {schema_editor.connection.vendor}")
    for sql in statements:
        schema_editor.execute(sql, params=None)


def backward(apps, schema_editor):
    statements = {"postgresql": [PG_BACKWARD], "sqlite": SQLITE_BACKWARD}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("customers", "0003_engagement_daily_window_index")]

    operations = [migrations.RunPython(forward, backward)]
