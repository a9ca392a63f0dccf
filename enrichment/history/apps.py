from django.apps import AppConfig


class HistoryConfig(AppConfig):
    name = "enrichment.history"
    label = "enrichment_history"
    verbose_name = "Context history"
