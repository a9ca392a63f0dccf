from django.apps import AppConfig


class VendorsConfig(AppConfig):
    name = "enrichment.vendors"
    label = "enrichment_vendors"
    verbose_name = "External company data"
