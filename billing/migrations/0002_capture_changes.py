"""Change capture on the billing tables (see customers/triggers.py)."""

from django.db import migrations

from customers.triggers import capture_install, capture_remove

TABLES = {"billing_subscription": "customer_id", "billing_invoice": "customer_id", "billing_plan": "plan_id"}


def forward(apps, schema_editor):
    capture_install(schema_editor, tables=TABLES)


def backward(apps, schema_editor):
    capture_remove(schema_editor, tables=TABLES)


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial"), ("customers", "0006_capture_changes")]

    operations = [migrations.RunPython(forward, backward)]
