"""Signal handlers of the real-time context.

- An :class:`~support.models.Incident` saved or deleted republishes the shared
  incident state once the transaction commits (:mod:`enrichment.realtime.product_status`),
  so every process's contexts show it within ``PRODUCT_STATUS_MEMO_SECONDS``
  plus ``CONTEXT_L1_TTL``.
- Every finished ``enrichment.fetch_vendor_data`` task counts its outcome for
  ``/metrics`` (:func:`enrichment.ops.metrics.record_vendor_outcome`): the vendor
  tasks themselves need no change.
"""

from __future__ import annotations

from celery.signals import task_postrun
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from enrichment.ops.metrics import record_vendor_outcome
from enrichment.realtime.product_status import product_status_publish
from support.models import Incident

VENDOR_TASK = "enrichment.fetch_vendor_data"


def _publish() -> None:
    product_status_publish()


@receiver(post_save, sender=Incident)
@receiver(post_delete, sender=Incident)
def incident_changed(sender, instance, **kwargs) -> None:
    transaction.on_commit(_publish)


@task_postrun.connect
def vendor_task_finished(sender=None, task=None, args=None, kwargs=None, retval=None, state=None, **_extra) -> None:
    if getattr(task, "name", None) != VENDOR_TASK:
        return
    args, kwargs = args or (), kwargs or {}
    vendor = kwargs.get("vendor") or (args[1] if len(args) > 1 else "other")
    outcome = retval if state == "SUCCESS" else (state or "failure").lower()
    record_vendor_outcome(str(vendor), outcome)
