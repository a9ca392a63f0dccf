from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        # System checks register themselves when imported.
        from customers import checks  # noqa: F401
        from customers.receivers import event_partitions_after_migrate

        post_migrate.connect(event_partitions_after_migrate, sender=self, dispatch_uid="customers.event_partitions_after_migrate")
