from django.apps import AppConfig


class EnrichmentConfig(AppConfig):
    name = "enrichment"
    verbose_name = "Customer context"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from config.pg_types import use_fast_timestamptz

        # Timestamps parsed in C on PostgreSQL (config/pg_types.py).
        connection_created.connect(use_fast_timestamptz, dispatch_uid="config.pg_types.use_fast_timestamptz")
        # System checks and signal receivers register themselves when imported.
        from enrichment import checks  # noqa: F401
        from enrichment.engine import receivers  # noqa: F401
        from enrichment.ops import receivers as ops_receivers  # noqa: F401
        from enrichment.realtime import receivers as realtime_receivers  # noqa: F401
