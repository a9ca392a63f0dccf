"""Who is asking: a contact's job title and roles on the account, and an index
for one person's own activity. SQLite rebuilds the contacts table to add the
JSON field, which drops its capture triggers: they are put back last."""

from django.db import migrations, models

from customers.triggers import capture_restore_sqlite


def restore_capture(apps, schema_editor):
    capture_restore_sqlite(schema_editor, tables={"customers_contact": "customer_id"})


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0007_engagement_rollup_lock_order"),
    ]

    operations = [
        migrations.AddField(
            model_name="contact",
            name="account_roles",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text='What they are to the account, any of: "admin", "billing", "champion", "decision_maker", "technical".',
            ),
        ),
        migrations.AddField(
            model_name="contact",
            name="title",
            field=models.CharField(blank=True, help_text="Job title, e.g. Head of Operations.", max_length=200),
        ),
        migrations.AlterField(
            model_name="contact",
            name="role",
            field=models.CharField(blank=True, help_text="Their role in the product, e.g. admin, member.", max_length=100),
        ),
        migrations.AddIndex(
            model_name="engagementevent",
            index=models.Index(fields=["contact", "occurred_at"], name="event_contact_time_idx"),
        ),
        migrations.RunPython(restore_capture, migrations.RunPython.noop),
    ]
