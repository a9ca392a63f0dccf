"""What the requester and ticket context read: when a ticket last changed and
how often it was reopened, both kept by the database whoever writes the row
(the admin, a helpdesk sync, an analyst's UPDATE):

- ``updated_at``: an UPDATE that leaves it as it was moves it to now; a writer
  that sets it (a sync carrying the helpdesk's own time) is kept;
- ``reopened_count``: a move from solved/closed to open/pending adds one,
  unless the same statement sets the count itself.

Existing tickets start with ``updated_at`` = their latest known moment. On
SQLite, adding the fields rebuilds the table and drops its capture triggers
(support 0002): they are put back here.
"""

import django.db.models.functions.datetime
from django.conf import settings
from django.db import migrations, models

from customers.triggers import capture_restore_sqlite

PG_INSTALL = """
CREATE OR REPLACE FUNCTION support_ticket_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
        NEW.updated_at := statement_timestamp();  -- the statement, not its transaction
    END IF;
    IF OLD.status IN ('solved', 'closed') AND NEW.status IN ('open', 'pending')
       AND NEW.reopened_count IS NOT DISTINCT FROM OLD.reopened_count THEN
        NEW.reopened_count := OLD.reopened_count + 1;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER support_ticket_touch BEFORE UPDATE ON support_ticket
    FOR EACH ROW EXECUTE FUNCTION support_ticket_touch();
"""
PG_REMOVE = "DROP TRIGGER IF EXISTS support_ticket_touch ON support_ticket; DROP FUNCTION IF EXISTS support_ticket_touch();"

# SQLite has no BEFORE-row assignment: AFTER triggers update the row again
# (recursive_triggers is off, so they do not fire themselves).
SQLITE_INSTALL = [
    """
    CREATE TRIGGER support_ticket_touch AFTER UPDATE ON support_ticket
    FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
    BEGIN
        UPDATE support_ticket SET updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = NEW.id;
    END
    """,
    """
    CREATE TRIGGER support_ticket_reopened AFTER UPDATE OF status ON support_ticket
    FOR EACH ROW WHEN OLD.status IN ('solved', 'closed') AND NEW.status IN ('open', 'pending')
        AND NEW.reopened_count IS OLD.reopened_count
    BEGIN
        UPDATE support_ticket SET reopened_count = OLD.reopened_count + 1 WHERE id = NEW.id;
    END
    """,
]
SQLITE_REMOVE = ["DROP TRIGGER IF EXISTS support_ticket_touch", "DROP TRIGGER IF EXISTS support_ticket_reopened"]

BACKFILL = "UPDATE support_ticket SET updated_at = COALESCE(resolved_at, first_response_at, created_at)"


def forward(apps, schema_editor):
    # The backfill runs before the touch triggers exist, so it sets the values it names.
    schema_editor.execute(BACKFILL)
    # SQLite rebuilt the table to add the fields, dropping its capture triggers (support 0002).
    capture_restore_sqlite(schema_editor, tables={"support_ticket": "customer_id"})
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_INSTALL)
    else:
        for sql in SQLITE_INSTALL:
            schema_editor.execute(sql)


def backward(apps, schema_editor):
    for sql in [PG_REMOVE] if schema_editor.connection.vendor == "postgresql" else SQLITE_REMOVE:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0008_requester"),
        ("support", "0002_capture_changes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="ticket",
            name="reopened_count",
            field=models.PositiveSmallIntegerField(
                db_default=0, default=0, help_text="Times reopened after being solved or closed (kept by the database)."
            ),
        ),
        migrations.AddField(
            model_name="ticket",
            name="updated_at",
            field=models.DateTimeField(
                db_default=django.db.models.functions.datetime.Now(), help_text="Last change to the ticket (kept by the database)."
            ),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(fields=["contact", "created_at"], name="ticket_contact_created_idx"),
        ),
        migrations.RunPython(forward, backward),
    ]
