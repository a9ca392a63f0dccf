"""Any change to a customer's data invalidates its context after commit.

Handlers only trigger :func:`enrichment.engine.services.context_invalidate_on_commit`.
Engagement events are not watched on delete: that would stop Django's fast
cascade delete of millions of rows (see README, "Cache").
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from billing.models import Invoice, Subscription
from customers.models import Contact, Customer, EngagementEvent
from customers.signals import customer_data_changed
from enrichment.engine.services import context_invalidate_on_commit
from support.models import Ticket


def _customer_id_of(instance) -> tuple[int | None, str | None]:
    cached = getattr(instance, "_state", None) and instance._state.fields_cache.get("customer")
    if cached is not None:
        return cached.pk, cached.external_id
    return instance.customer_id, None


@receiver(post_save, sender=Ticket)
@receiver(post_delete, sender=Ticket)
@receiver(post_save, sender=Subscription)
@receiver(post_delete, sender=Subscription)
@receiver(post_save, sender=Invoice)
@receiver(post_delete, sender=Invoice)
@receiver(post_save, sender=Contact)
@receiver(post_delete, sender=Contact)
@receiver(post_save, sender=EngagementEvent)
def invalidate_customer_context(sender, instance, **kwargs):
    pk, external_id = _customer_id_of(instance)
    context_invalidate_on_commit(customer_pk=pk, customer_id=external_id)


@receiver(post_save, sender=Customer)
@receiver(post_delete, sender=Customer)
def invalidate_customer(sender, instance, **kwargs):
    context_invalidate_on_commit(customer_id=instance.external_id)


@receiver(customer_data_changed)
def invalidate_changed_customers(sender, customer_ids, **kwargs):
    for customer_id in customer_ids:
        context_invalidate_on_commit(customer_id=customer_id)
