"""Partitions of the raw events table (PostgreSQL; customers/partitions.py, README "Operations")."""

from celery.schedules import crontab

from config.env import env_int

# Months of raw events kept besides the current one; older monthly partitions are dropped by the daily
# maintenance while the daily rollup keeps their counts. 0 (default): keep everything; else at least 3.
EVENTS_RETENTION_MONTHS = env_int("EVENTS_RETENTION_MONTHS", 0)
# Monthly partitions kept ready after the current month.
EVENTS_PARTITIONS_AHEAD = env_int("EVENTS_PARTITIONS_AHEAD", 3)
EVENTS_PARTITIONS_BEAT = {
    "maintain-event-partitions": {"task": "customers.maintain_event_partitions", "schedule": crontab(hour=3, minute=25)},
}
