from django.apps import AppConfig


class VendorsConfig(AppConfig):
    name = "enrichment.vendors"
    label = "enrichment_vendors"
    verbose_name = "External company data"

    def ready(self) -> None:
        # The signal receivers register themselves when imported.
        from enrichment.vendors import receivers  # noqa: F401
