"""Celery and beat metrics for the whole deployment, read at scrape time.

======================================================  =========  ==========================================
metric                                                  type       what
======================================================  =========  ==========================================
enrichment_celery_task_outcomes_total{task,outcome}     counter    finished tasks by outcome (success, failure,
                                                                   retry, revoked, ...), every worker's
enrichment_celery_task_seconds{task}                    histogram  task run time in the worker
enrichment_celery_queue_length{queue}                   gauge      messages waiting in the broker per queue
enrichment_beat_last_tick_timestamp_seconds             gauge      Unix time of beat's last scheduler tick
                                                                   (absent until beat has run once)
======================================================  =========  ==========================================

Workers write task figures into shared Redis hashes (:mod:`enrichment.ops.shared`)
from Celery signals (:mod:`enrichment.ops.receivers`); beat writes its heartbeat
(:class:`enrichment.ops.beat.HeartbeatScheduler`); the queue lengths are read
from the broker (Redis) when scraped.
"""

from __future__ import annotations

import time

import redis
import structlog
from django.conf import settings
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from enrichment.ops.shared import hash_increment, hash_set, hashes_read, set_members

logger = structlog.get_logger(__name__)

TASK_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
TASKS_SET = "celery:tasks"
BEAT_KEY = "beat"
_PRIORITY_SEPARATOR = "\x06\x16"  # kombu's Redis priority queues: "<queue>\x06\x16<priority>"
_PRIORITIES = ("", *(f"{_PRIORITY_SEPARATOR}{p}" for p in (1, 2, 3, 4, 5, 6, 7, 8, 9)))


def _task_key(task: str) -> str:
    return f"celery:task:{task}"


def record_task(task: str, *, outcome: str, seconds: float | None) -> None:
    """One finished task: its outcome and (when it ran) its run time."""
    amounts: dict[str, float] = {f"outcome:{outcome}": 1}
    if seconds is not None:
        for bound in TASK_BUCKETS:
            if seconds <= bound:
                amounts[f"le:{bound}"] = 1
        amounts["count"] = 1
        amounts["sum"] = round(seconds, 6)
    hash_increment(_task_key(task), amounts, member_of=TASKS_SET)


def record_beat_tick(now: float | None = None) -> None:
    hash_set(BEAT_KEY, {"last_tick": now if now is not None else time.time()})


def queue_names() -> list[str]:
    routed = {route.get("queue") for route in getattr(settings, "CELERY_TASK_ROUTES", {}).values()}
    return sorted({settings.CELERY_TASK_DEFAULT_QUEUE, *(q for q in routed if q)})


_BROKERS: dict[str, redis.Redis] = {}


def queue_lengths() -> dict[str, int]:
    """Messages waiting per queue; empty when the broker is not Redis."""
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return {}
    client = _BROKERS.get(url)
    if client is None:
        client = _BROKERS[url] = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", "")
    names = queue_names()
    pipe = client.pipeline(transaction=False)
    for name in names:
        for suffix in _PRIORITIES:
            pipe.llen(f"{prefix}{name}{suffix}")
    counts = pipe.execute()
    step = len(_PRIORITIES)
    return {name: sum(counts[i * step : (i + 1) * step]) for i, name in enumerate(names)}


class TaskCollector:
    def collect(self):
        try:
            tasks = [key.removeprefix(_task_key("")) for key in set_members(TASKS_SET)]  # the set holds the hash keys
            stored = hashes_read([_task_key(task) for task in tasks] + [BEAT_KEY])
        except Exception as exc:  # noqa: BLE001 - Redis down: no shared series this scrape
            logger.warning("metrics_shared_read_failed", error=type(exc).__name__)
            tasks, stored = [], {}
        yield from self._tasks(tasks, stored)
        queues = GaugeMetricFamily("enrichment_celery_queue_length", "Messages waiting in the broker per queue.", labels=["queue"])
        try:
            for name, length in queue_lengths().items():
                queues.add_metric([name], length)
        except Exception as exc:  # noqa: BLE001
            logger.warning("metrics_queue_read_failed", error=type(exc).__name__)
        yield queues
        beat = GaugeMetricFamily("enrichment_beat_last_tick_timestamp_seconds", "Unix time of Celery beat's last scheduler tick.")
        if BEAT_KEY in stored and "last_tick" in stored[BEAT_KEY]:
            beat.add_metric([], stored[BEAT_KEY]["last_tick"])
        yield beat

    @staticmethod
    def _tasks(tasks: list[str], stored: dict[str, dict[str, float]]):
        outcomes = CounterMetricFamily(
            "enrichment_celery_task_outcomes", "Finished Celery tasks by outcome (all workers).", labels=["task", "outcome"]
        )
        seconds = HistogramMetricFamily(
            "enrichment_celery_task_seconds", "Celery task run time in the worker (all workers).", labels=["task"]
        )
        for task in tasks:
            fields = stored.get(_task_key(task), {})
            for field, value in sorted(fields.items()):
                if field.startswith("outcome:"):
                    outcomes.add_metric([task, field.split(":", 1)[1]], value)
            if fields.get("count"):
                buckets = [(str(bound), fields.get(f"le:{bound}", 0.0)) for bound in TASK_BUCKETS]
                seconds.add_metric([task], [*buckets, ("+Inf", fields["count"])], sum_value=fields.get("sum", 0.0))
        yield outcomes
        yield seconds
