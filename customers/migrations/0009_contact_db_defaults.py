"""Database defaults for a contact's title and roles on the account, so bulk
loads and other services that insert contacts need not name them. SQLite
rebuilds the table to alter the fields, which drops its capture triggers:
they are put back last."""

from django.db import migrations, models

from customers.triggers import capture_restore_sqlite


def restore_capture(apps, schema_editor):
    capture_restore_sqlite(schema_editor, tables={"customers_contact": "customer_id"})


class Migration(migrations.Migration):
    dependencies = [("customers", "0008_requester")]

    operations = [
        migrations.AlterField(
            model_name="contact",
            name="account_roles",
            field=models.JSONField(
                blank=True,
                db_default=[],
                default=list,
                help_text='What they are to the account, any of: "admin", "billing", "champion", "decision_maker", "technical".',
            ),
        ),
        migrations.AlterField(
            model_name="contact",
            name="title",
            field=models.CharField(blank=True, db_default="", default="", help_text="Job title, e.g. Head of Operations.", max_length=200),
        ),
        migrations.RunPython(restore_capture, migrations.RunPython.noop),
    ]
