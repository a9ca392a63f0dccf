from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "enrichment.api"
    label = "enrichment_api"
    verbose_name = "Agents' API"
