"""The enrichment app's models moved to the sub-packages that own them
(``enrichment.api``, ``enrichment.history``, ``enrichment.vendors``). Only
Django's state changes: the tables keep their names (``Meta.db_table``), so
nothing is copied, and the new apps' first migrations take the models over."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("enrichment", "0003_realtime_context"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="ApiToken"),
                migrations.DeleteModel(name="CustomerHealth"),
                migrations.DeleteModel(name="HealthDaily"),
                migrations.DeleteModel(name="ContextSnapshot"),
                migrations.DeleteModel(name="ExternalRecord"),
            ],
            database_operations=[],
        ),
    ]
