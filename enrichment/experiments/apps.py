from django.apps import AppConfig


class ExperimentsConfig(AppConfig):
    name = "enrichment.experiments"
    label = "enrichment_experiments"
    verbose_name = "Context experiments"
