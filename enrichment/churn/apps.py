from django.apps import AppConfig


class ChurnConfig(AppConfig):
    name = "enrichment.churn"
    label = "enrichment_churn"
    verbose_name = "Churn models"
