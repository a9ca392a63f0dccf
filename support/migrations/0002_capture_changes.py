"""Change capture on support tickets (see customers/triggers.py)."""

from django.db import migrations

from customers.triggers import capture_install, capture_remove

TABLES = {"support_ticket": "customer_id"}


def forward(apps, schema_editor):
    capture_install(schema_editor, tables=TABLES)


def backward(apps, schema_editor):
    capture_remove(schema_editor, tables=TABLES)


class Migration(migrations.Migration):
    dependencies = [("support", "0001_initial"), ("customers", "0006_capture_changes")]

    operations = [migrations.RunPython(forward, backward)]
