"""Signal handlers of the vendors room (connected by ``VendorsConfig.ready()``).

A stored vendor answer invalidates the customer's context once the transaction
commits, so the next request reads the new company data.
"""

from __future__ import annotations

from django.dispatch import receiver

from enrichment.engine.services import context_invalidate_on_commit
from enrichment.vendors.signals import external_data_stored


@receiver(external_data_stored)
def invalidate_context_on_new_data(sender, customer_id: str, **kwargs) -> None:
    context_invalidate_on_commit(customer_id=customer_id)
