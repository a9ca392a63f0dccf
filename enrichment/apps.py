from django.apps import AppConfig


class EnrichmentConfig(AppConfig):
    name = "enrichment"
    verbose_name = "Customer context"

    def ready(self) -> None:
        from enrichment import checks, realtime_signals, signals  # noqa: F401
