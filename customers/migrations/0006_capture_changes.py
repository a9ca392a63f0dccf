"""Change capture on the customers app's tables (see customers/triggers.py)."""

from django.db import migrations

from customers.triggers import capture_install, capture_remove

TABLES = {"customers_customer": "self", "customers_contact": "customer_id", "customers_engagementevent": "customer_id"}


def forward(apps, schema_editor):
    capture_install(schema_editor, tables=TABLES, function=True)


def backward(apps, schema_editor):
    capture_remove(schema_editor, tables=TABLES, function=True)


class Migration(migrations.Migration):
    dependencies = [("customers", "0005_customer_data_change")]

    operations = [migrations.RunPython(forward, backward)]
