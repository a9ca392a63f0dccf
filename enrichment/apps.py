from django.apps import AppConfig


class EnrichmentConfig(AppConfig):
    name = "enrichment"
    verbose_name = "Customer context"

    def ready(self) -> None:
        # System checks and signal receivers register themselves when imported.
        from enrichment import checks  # noqa: F401
        from enrichment.engine import receivers  # noqa: F401
        from enrichment.ops import receivers as ops_receivers  # noqa: F401
        from enrichment.realtime import receivers as realtime_receivers  # noqa: F401
