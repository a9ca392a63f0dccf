"""Celery beat's scheduler with a heartbeat (``CELERY_BEAT_SCHEDULER``).

Each scheduler tick records the time in the shared metrics, exported as
``enrichment_beat_last_tick_timestamp_seconds``; beat ticks at least every
``CELERY_BEAT_MAX_LOOP_INTERVAL`` seconds (30), so an alert on
``time() - enrichment_beat_last_tick_timestamp_seconds > 120`` means beat is
gone or stuck. Writes at most once every ``HEARTBEAT_SECONDS``.
"""

from __future__ import annotations

import time

from celery.beat import PersistentScheduler

from enrichment.ops.task_metrics import record_beat_tick

HEARTBEAT_SECONDS = 5.0


class HeartbeatScheduler(PersistentScheduler):
    _last_beat = 0.0

    def tick(self, *args, **kwargs):
        now = time.time()
        if now - self._last_beat >= HEARTBEAT_SECONDS:
            self._last_beat = now
            record_beat_tick(now)
        return super().tick(*args, **kwargs)
