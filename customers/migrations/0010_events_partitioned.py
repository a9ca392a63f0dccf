"""The raw events table partitioned by month (PostgreSQL), and a log of the
partitions the retention drops.

PostgreSQL: the populated table is converted in this migration's transaction
(the table is locked for its duration):

1. the table is renamed aside and an empty table ``PARTITION BY RANGE
   (occurred_at)`` with the same columns takes its name;
2. one partition per UTC month holding rows (found by a walk on the
   ``occurred_at`` index), the last 12 months, this month and the next
   ``AHEAD``, and the DEFAULT partition;
3. the rows are moved by one ``INSERT ... SELECT`` (tuple routing; no index
   or trigger on the new table yet, and the rollup already counts them);
4. the old table is dropped; a sequence owned by ``id`` continues from the
   old identity's next value (PostgreSQL 15 has no identity column on a
   partitioned table);
5. indexes and constraints are built on the loaded table: the primary key is
   ``(id, occurred_at)`` and ``(event_id, occurred_at)`` is unique (where
   there is an ``event_id``), since a unique constraint of a partitioned
   table must include the partition key; the foreign keys are recreated as
   they were;
6. the rollup and change-capture triggers go on the partitioned table
   (statement triggers with transition tables, the same functions);
7. ANALYZE (autovacuum never analyzes a partitioned parent).

Each ``event_id`` stays stored once through a ledger,
``customers_engagementeventkey`` (``EngagementEventKey``): filled here from
the events, then kept by triggers on the events table (both databases) and
claimed by the ingestion before it stores an event.

Django's state keeps ``id`` as the primary key. On both databases the
foreign keys lose their own single-column indexes (the composite indexes lead
with them), ``event_id`` its own uniqueness, and the ``(customer, kind,
occurred_at)`` index becomes ``(customer, occurred_at) INCLUDE (kind,
feature)``: one index range for any time range of a customer's events, which
a generic plan over partitions uses (a lower-column ``kind IN (...)`` is only
a filter in a plain index scan).

SQLite keeps a plain table: the same field and constraint changes, made by
Django (it rebuilds the table, which drops its triggers: the rollup and
change-capture triggers are put back last).

Reversible: back to a plain table, provided no ``event_id`` is stored twice.
"""

import importlib

from django.db import migrations, models
from django.db.migrations.operations.base import Operation

from customers.partition_sql import (
    COLUMNS,
    INDEXES,
    SEQUENCE,
    TABLE,
    add_months,
    create_default_sql,
    create_partition_sql,
    month_start,
    months_with_rows,
)
from customers.triggers import capture_install, capture_restore_sqlite, event_keys_install, event_keys_remove

ROLLUP_0004 = importlib.import_module("customers.migrations.0004_engagement_rollup_triggers")

AHEAD = 3  # months after this one (the maintenance task keeps EVENTS_PARTITIONS_AHEAD)
BEHIND = 12  # months before this one, holding rows or not
ASIDE = f"{TABLE}_unpartitioned"

ROLLUP_TRIGGERS = f"""
CREATE TRIGGER customers_engagement_rollup_insert AFTER INSERT ON {TABLE}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION customers_engagement_rollup();
CREATE TRIGGER customers_engagement_rollup_update AFTER UPDATE ON {TABLE}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION customers_engagement_rollup();
CREATE TRIGGER customers_engagement_rollup_delete AFTER DELETE ON {TABLE}
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION customers_engagement_rollup();
CREATE TRIGGER customers_engagement_rollup_truncate AFTER TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION customers_engagement_rollup();
"""

# The plain table's own indexes and constraints as 0001-0009 made them (for the way back).
PLAIN_INDEXES = (
    f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id)",
    f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_event_id_key UNIQUE (event_id)",
    f"CREATE INDEX {TABLE}_event_id_a98ce807_like ON {TABLE} (event_id varchar_pattern_ops)",
    f"CREATE INDEX {TABLE}_customer_id_0edf4212 ON {TABLE} (customer_id)",
    f"CREATE INDEX {TABLE}_contact_id_5242d4e3 ON {TABLE} (contact_id)",
    f"CREATE INDEX event_customer_kind_time_idx ON {TABLE} (customer_id, kind, occurred_at)",
    f"CREATE INDEX event_time_idx ON {TABLE} (occurred_at)",
    f"CREATE INDEX event_contact_time_idx ON {TABLE} (contact_id, occurred_at)",
)


class OnSQLite(Operation):
    """A schema operation whose state change applies everywhere and whose
    database change only on SQLite (PostgreSQL's is made by hand above)."""

    reversible = True

    def __init__(self, operation):
        self.operation = operation

    def deconstruct(self):
        return (self.__class__.__name__, [self.operation], {})

    def state_forwards(self, app_label, state):
        self.operation.state_forwards(app_label, state)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "sqlite":
            self.operation.database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "sqlite":
            self.operation.database_backwards(app_label, schema_editor, from_state, to_state)

    def describe(self):
        return f"{self.operation.describe()} (SQLite; PostgreSQL by the partitioning)"


def _next_id(cursor) -> int:
    """The id the next event gets: the sequence's next value, past every stored id."""
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [TABLE])
    sequence = cursor.fetchone()[0]
    cursor.execute(f"SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM {sequence}")
    following = cursor.fetchone()[0]
    cursor.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {TABLE}")
    return max(following, cursor.fetchone()[0])


def _foreign_keys(cursor) -> list[tuple[str, str]]:
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = to_regclass(%s) AND contype = 'f' ORDER BY conname",
        [TABLE],
    )
    fks = cursor.fetchall()
    cursor.execute("SELECT count(*) FROM pg_constraint WHERE confrelid = to_regclass(%s)", [TABLE])
    if cursor.fetchone()[0]:
        raise RuntimeError(f"a foreign key references {TABLE}: a partitioned table would need (id, occurred_at)")
    return fks


def _swap(cursor, *, partitioned: bool, months: list) -> None:
    """Rename the table aside, create its replacement with the same columns, move the rows, drop the old one."""
    cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {ASIDE}")
    cursor.execute(f"CREATE TABLE {TABLE} (LIKE {ASIDE})" + (" PARTITION BY RANGE (occurred_at)" if partitioned else ""))
    for month in months:
        cursor.execute(create_partition_sql(month))
    if partitioned:
        cursor.execute(create_default_sql())
    cursor.execute(f"INSERT INTO {TABLE} ({COLUMNS}) SELECT {COLUMNS} FROM {ASIDE}")
    cursor.execute(f"DROP TABLE {ASIDE}")  # with its indexes, triggers, foreign keys and sequence


def _finish(cursor, schema_editor, *, next_id: int, identity: bool, indexes, fks) -> None:
    if identity:
        cursor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (SEQUENCE NAME {SEQUENCE})")
    else:
        cursor.execute(f"CREATE SEQUENCE {SEQUENCE} OWNED BY {TABLE}.id")
        cursor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN id SET DEFAULT nextval('{SEQUENCE}')")
    cursor.execute("SELECT setval(%s, %s, false)", [SEQUENCE, next_id])
    for sql in indexes:
        cursor.execute(sql)
    for name, definition in fks:
        cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {name} {definition}")
    cursor.execute(ROLLUP_TRIGGERS)
    capture_install(schema_editor, tables={TABLE: "customer_id"})
    cursor.execute(f"ANALYZE {TABLE}")


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        next_id, fks = _next_id(cursor), _foreign_keys(cursor)
        cursor.execute("SELECT now()")
        this_month = month_start(cursor.fetchone()[0])
        recent = {add_months(this_month, n) for n in range(-BEHIND, AHEAD + 1)}
        months = sorted(recent | set(months_with_rows(cursor, TABLE)))
        _swap(cursor, partitioned=True, months=months)
        _finish(cursor, schema_editor, next_id=next_id, identity=False, indexes=INDEXES, fks=fks)


def unpartition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
        cursor.execute(f"SELECT event_id FROM {TABLE} WHERE event_id IS NOT NULL GROUP BY event_id HAVING count(*) > 1 LIMIT 3")
        repeated = [row[0] for row in cursor.fetchall()]
        if repeated:
            raise RuntimeError(f"cannot go back to a table unique by event_id: stored more than once: {repeated}")
        next_id, fks = _next_id(cursor), _foreign_keys(cursor)
        _swap(cursor, partitioned=False, months=[])
        _finish(cursor, schema_editor, next_id=next_id, identity=True, indexes=PLAIN_INDEXES, fks=fks)


def keys_fill(apps, schema_editor):
    """The ledger of stored event ids, from the events (set-based), then its triggers."""
    schema_editor.execute(
        f"INSERT INTO customers_engagementeventkey (event_id, occurred_at) SELECT event_id, min(occurred_at) FROM {TABLE}"
        " WHERE event_id IS NOT NULL GROUP BY event_id",
        params=None,
    )
    event_keys_install(schema_editor)


def keys_triggers_remove(apps, schema_editor):
    event_keys_remove(schema_editor)


def restore_sqlite_triggers(apps, schema_editor):
    """SQLite rebuilt the events table: its rollup and change-capture triggers again."""
    if schema_editor.connection.vendor != "sqlite":
        return
    for sql in ROLLUP_0004.SQLITE_BACKWARD + ROLLUP_0004.SQLITE_FORWARD:
        schema_editor.execute(sql, params=None)
    capture_restore_sqlite(schema_editor, tables={TABLE: "customer_id"})


class Migration(migrations.Migration):
    dependencies = [("customers", "0009_contact_db_defaults")]

    operations = [
        # Backwards, this runs last: after SQLite has rebuilt the table again.
        migrations.RunPython(migrations.RunPython.noop, restore_sqlite_triggers),
        migrations.RunPython(partition, unpartition),
        OnSQLite(
            migrations.AlterField(
                model_name="engagementevent",
                name="contact",
                field=models.ForeignKey(
                    blank=True, db_index=False, null=True, on_delete=models.deletion.SET_NULL, related_name="events", to="customers.contact"
                ),
            )
        ),
        OnSQLite(
            migrations.AlterField(
                model_name="engagementevent",
                name="customer",
                field=models.ForeignKey(db_index=False, on_delete=models.deletion.CASCADE, related_name="events", to="customers.customer"),
            )
        ),
        OnSQLite(
            migrations.AlterField(
                model_name="engagementevent",
                name="event_id",
                field=models.CharField(
                    blank=True, help_text="Client-supplied id that makes ingestion idempotent.", max_length=100, null=True
                ),
            )
        ),
        OnSQLite(migrations.RemoveIndex(model_name="engagementevent", name="event_customer_kind_time_idx")),
        OnSQLite(
            migrations.AddIndex(
                model_name="engagementevent",
                index=models.Index(fields=["customer", "occurred_at"], include=("kind", "feature"), name="event_customer_time_idx"),
            )
        ),
        OnSQLite(
            migrations.AddConstraint(
                model_name="engagementevent",
                constraint=models.UniqueConstraint(
                    condition=models.Q(("event_id__isnull", False)), fields=("event_id", "occurred_at"), name="event_id_occurred_at_unique"
                ),
            )
        ),
        migrations.CreateModel(
            name="EventPartitionDrop",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("name", models.CharField(max_length=63)),
                ("range_start", models.DateTimeField()),
                ("range_end", models.DateTimeField()),
                ("rows", models.BigIntegerField(help_text="Events it held, counted just before it was dropped.")),
                ("dropped_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={"ordering": ["range_start"]},
        ),
        migrations.CreateModel(
            name="EngagementEventKey",
            fields=[
                ("event_id", models.CharField(max_length=100, primary_key=True, serialize=False)),
                ("occurred_at", models.DateTimeField(help_text="The event's time: the retention drops the keys of the months it drops.")),
            ],
            options={"indexes": [models.Index(fields=["occurred_at"], name="event_key_time_idx")]},
        ),
        migrations.RunPython(keys_fill, keys_triggers_remove),
        migrations.RunPython(restore_sqlite_triggers, migrations.RunPython.noop),
    ]
