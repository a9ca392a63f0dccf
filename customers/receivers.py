"""Keep the engagement rollup in step with events saved one at a time
(admin, factories). Bulk ingestion maintains the rollup itself."""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver

from customers.models import EngagementEvent
from customers.services import engagement_rollup_record


@receiver(post_save, sender=EngagementEvent)
def record_event_in_rollup(sender, instance: EngagementEvent, created: bool, raw: bool = False, **kwargs):
    if raw:
        return
    engagement_rollup_record(event=instance, created=created)
