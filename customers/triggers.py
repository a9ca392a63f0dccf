"""SQL of the change-capture triggers, for the migrations that install them.

Every table a context is built from gets triggers that add a row to
``customers_customerdatachange`` (:class:`customers.models.CustomerDataChange`)
for each customer a statement touched, and on PostgreSQL ``NOTIFY`` the
:data:`CHANNEL`. Three ways to find the customer of a changed row (``mode``):

- ``self``: the row is the customer (``customers_customer``);
- ``customer_id``: the row has a ``customer_id`` column (contacts, events,
  tickets, subscriptions, invoices);
- ``plan_id``: the row is a plan; every customer subscribed to it changed.

PostgreSQL uses statement-level triggers with transition tables (one grouped
insert per statement, however many rows); SQLite uses row triggers.

The migrations call these functions when they run; changing this module
later does not change installed triggers: write a new migration for that.
"""

from __future__ import annotations

CHANNEL = "customer_data_changed"
CHANGE_TABLE = "customers_customerdatachange"

_CUSTOMERS_OF = {
    "self": "SELECT external_id FROM {rows}",
    "customer_id": "SELECT c.external_id FROM customers_customer c WHERE c.id IN (SELECT customer_id FROM {rows})",
    "plan_id": (
        "SELECT DISTINCT c.external_id FROM customers_customer c JOIN billing_subscription s ON s.customer_id = c.id"
        " WHERE s.plan_id IN (SELECT id FROM {rows})"
    ),
}

PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION customers_capture_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    mode text := TG_ARGV[0];
    n bigint;
BEGIN
    IF mode = 'self' THEN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO {CHANGE_TABLE} (external_id, source) SELECT DISTINCT external_id, TG_TABLE_NAME FROM new_rows;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO {CHANGE_TABLE} (external_id, source) SELECT DISTINCT external_id, TG_TABLE_NAME FROM old_rows;
        ELSE
            INSERT INTO {CHANGE_TABLE} (external_id, source)
            SELECT external_id, TG_TABLE_NAME FROM (SELECT external_id FROM new_rows UNION SELECT external_id FROM old_rows) u;
        END IF;
    ELSIF mode = 'customer_id' THEN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO {CHANGE_TABLE} (external_id, source) SELECT c.external_id, TG_TABLE_NAME FROM customers_customer c
            WHERE c.id IN (SELECT customer_id FROM new_rows);
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO {CHANGE_TABLE} (external_id, source) SELECT c.external_id, TG_TABLE_NAME FROM customers_customer c
            WHERE c.id IN (SELECT customer_id FROM old_rows);
        ELSE
            INSERT INTO {CHANGE_TABLE} (external_id, source) SELECT c.external_id, TG_TABLE_NAME FROM customers_customer c
            WHERE c.id IN (SELECT customer_id FROM new_rows UNION SELECT customer_id FROM old_rows);
        END IF;
    ELSIF mode = 'plan_id' AND TG_OP = 'UPDATE' THEN
        INSERT INTO {CHANGE_TABLE} (external_id, source) SELECT DISTINCT c.external_id, TG_TABLE_NAME
        FROM customers_customer c JOIN billing_subscription s ON s.customer_id = c.id WHERE s.plan_id IN (SELECT id FROM new_rows);
    END IF;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        PERFORM pg_notify('{CHANNEL}', '');
    END IF;
    RETURN NULL;
END
$$;
"""


def _pg_triggers(table: str, mode: str) -> list[str]:
    name = f"{table}_capture_change"
    call = f"FOR EACH STATEMENT EXECUTE FUNCTION customers_capture_change('{mode}')"
    return [
        f"CREATE TRIGGER {name}_insert AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows {call}",
        f"CREATE TRIGGER {name}_update AFTER UPDATE ON {table} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows {call}",
        f"CREATE TRIGGER {name}_delete AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows {call}",
    ]


def _sqlite_select(mode: str, table: str, rows: tuple[str, ...]) -> str:
    if mode == "self":
        return " UNION ".join(f"SELECT {row}.external_id, '{table}'" for row in rows)
    column = "customer_id" if mode == "customer_id" else "id"
    ids = ", ".join(f"{row}.{column}" for row in rows)
    if mode == "customer_id":
        return f"SELECT external_id, '{table}' FROM customers_customer WHERE id IN ({ids})"
    return (
        f"SELECT DISTINCT c.external_id, '{table}' FROM customers_customer c JOIN billing_subscription s"
        f" ON s.customer_id = c.id WHERE s.plan_id IN ({ids})"
    )


def _sqlite_triggers(table: str, mode: str) -> list[str]:
    name = f"{table}_capture_change"
    events = {"insert": ("NEW",), "update": ("NEW", "OLD"), "delete": ("OLD",)}
    if mode == "plan_id":
        events = {"update": ("NEW",)}
    return [
        f"CREATE TRIGGER {name}_{event} AFTER {event.upper()} ON {table} BEGIN"
        f" INSERT INTO {CHANGE_TABLE} (external_id, source) {_sqlite_select(mode, table, rows)}; END"
        for event, rows in events.items()
    ]


def capture_install(schema_editor, *, tables: dict[str, str], function: bool = False) -> None:
    """Install change capture on ``tables`` (table name -> mode); ``function``:
    also (re)create the PostgreSQL trigger function."""
    vendor = schema_editor.connection.vendor
    statements: list[str] = []
    if vendor == "postgresql":
        statements = [PG_FUNCTION] if function else []
        statements += [sql for table, mode in tables.items() for sql in _pg_triggers(table, mode)]
    elif vendor == "sqlite":
        statements = [sql for table, mode in tables.items() for sql in _sqlite_triggers(table, mode)]
    else:
        raise NotImplementedError(f"no change-capture triggers for {vendor}")
    for sql in statements:
        schema_editor.execute(sql, params=None)


def capture_remove(schema_editor, *, tables: dict[str, str], function: bool = False) -> None:
    vendor = schema_editor.connection.vendor
    for table in tables:
        for event in ("insert", "update", "delete"):
            on = f" ON {table}" if vendor == "postgresql" else ""
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_capture_change_{event}{on}", params=None)
    if function and vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS customers_capture_change()", params=None)


def capture_restore_sqlite(schema_editor, *, tables: dict[str, str]) -> None:
    """Put back the SQLite capture triggers of ``tables`` after a migration that
    altered them: SQLite alters a table by rebuilding it (Django's
    ``_remake_table``), which drops its triggers. A migration that adds or
    alters a field of a captured table must end with this. No-op elsewhere
    (PostgreSQL's ALTER TABLE keeps triggers)."""
    if schema_editor.connection.vendor != "sqlite":
        return
    capture_remove(schema_editor, tables=tables)
    capture_install(schema_editor, tables=tables)


# -- the events' idempotency ledger (customers.models.EngagementEventKey) --------------------------------
EVENT_TABLE = "customers_engagementevent"
KEY_TABLE = "customers_engagementeventkey"

PG_EVENT_KEYS = f"""
CREATE OR REPLACE FUNCTION customers_event_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO {KEY_TABLE} (event_id, occurred_at)
        SELECT event_id, min(occurred_at) FROM new_rows WHERE event_id IS NOT NULL GROUP BY event_id ORDER BY event_id
        ON CONFLICT (event_id) DO NOTHING;
    ELSIF TG_OP = 'DELETE' THEN
        DELETE FROM {KEY_TABLE} WHERE event_id IN (SELECT event_id FROM old_rows WHERE event_id IS NOT NULL);
    ELSE  -- TRUNCATE
        DELETE FROM {KEY_TABLE};
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER customers_event_keys_insert AFTER INSERT ON {EVENT_TABLE}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION customers_event_keys();
CREATE TRIGGER customers_event_keys_delete AFTER DELETE ON {EVENT_TABLE}
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION customers_event_keys();
CREATE TRIGGER customers_event_keys_truncate AFTER TRUNCATE ON {EVENT_TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION customers_event_keys();
"""

SQLITE_EVENT_KEYS = [
    f"CREATE TRIGGER customers_event_keys_insert AFTER INSERT ON {EVENT_TABLE} WHEN NEW.event_id IS NOT NULL"
    f" BEGIN INSERT OR IGNORE INTO {KEY_TABLE} (event_id, occurred_at) VALUES (NEW.event_id, NEW.occurred_at); END",
    f"CREATE TRIGGER customers_event_keys_delete AFTER DELETE ON {EVENT_TABLE} WHEN OLD.event_id IS NOT NULL"
    f" BEGIN DELETE FROM {KEY_TABLE} WHERE event_id = OLD.event_id; END",
]


def event_keys_install(schema_editor) -> None:
    """The triggers that keep the events' idempotency ledger: an insert (any
    writer) records its ``event_id``\\ s, a delete (or TRUNCATE) frees them.
    An UPDATE of an ``event_id`` is not followed (ids are the client's and
    are not edited). SQLite drops them when it rebuilds the events table: a
    migration doing that ends with :func:`event_keys_remove` and this."""
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": [PG_EVENT_KEYS], "sqlite": SQLITE_EVENT_KEYS}.get(vendor)
    if statements is None:
        raise NotImplementedError(f"no event key triggers for {vendor}")
    for sql in statements:
        schema_editor.execute(sql, params=None)


def event_keys_remove(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    for op in ("insert", "delete", "truncate"):
        on = f" ON {EVENT_TABLE}" if vendor == "postgresql" else ""
        schema_editor.execute(f"DROP TRIGGER IF EXISTS customers_event_keys_{op}{on}", params=None)
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS customers_event_keys()", params=None)
