"""System checks of the customers app (imported by ``CustomersConfig.ready()``)."""

from django.conf import settings
from django.core import checks

from customers.partitions import RETENTION_MIN_MONTHS


@checks.register()
def check_event_partitions(app_configs, **kwargs):
    """customers.E001: ``EVENTS_RETENTION_MONTHS`` is 0 (keep everything) or
    at least RETENTION_MIN_MONTHS (the context reads the last 61 days of raw
    events); customers.E002: ``EVENTS_PARTITIONS_AHEAD`` is at least 1 (the
    next month's partition is ready before its first event)."""
    errors = []
    months = settings.EVENTS_RETENTION_MONTHS
    if months < 0 or 0 < months < RETENTION_MIN_MONTHS:
        errors.append(
            checks.Error(
                f"EVENTS_RETENTION_MONTHS is {months}: it must be 0 (keep every raw event) or at least {RETENTION_MIN_MONTHS}",
                hint="The context reads the raw events of the last 61 days; the daily rollup keeps the older months.",
                id="customers.E001",
            )
        )
    if settings.EVENTS_PARTITIONS_AHEAD < 1:
        errors.append(
            checks.Error(
                f"EVENTS_PARTITIONS_AHEAD is {settings.EVENTS_PARTITIONS_AHEAD}: it must be at least 1",
                hint="Without next month's partition made ahead, its first events land in the DEFAULT partition.",
                id="customers.E002",
            )
        )
    return errors
