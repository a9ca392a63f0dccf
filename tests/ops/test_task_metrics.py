"""Celery task outcomes and latency, queue depth and the beat heartbeat on /metrics
(shared through Redis, so any web process reports every worker's figures)."""

from __future__ import annotations

import os
import time

import pytest
import redis
from django.core.management import call_command

from config.celery_app import app as celery_app
from enrichment.engine.tasks import refresh_contexts
from enrichment.ops.beat import HeartbeatScheduler
from tests.enrichment.realtime.test_metrics import sample, scrape

pytestmark = pytest.mark.django_db


def test_task_outcomes_and_latency(client):
    call_command("seed_demo", customers=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    task = "enrichment.refresh_contexts"
    before = scrape(client)
    ok = sample(before, "enrichment_celery_task_outcomes_total", task=task, outcome="success")
    count = sample(before, "enrichment_celery_task_seconds_count", task=task)
    refresh_contexts.delay(["customer_123"])  # eager here: the same signals as in a worker
    refresh_contexts.delay(["customer_trial"])
    text = scrape(client)
    assert sample(text, "enrichment_celery_task_outcomes_total", task=task, outcome="success") == ok + 2
    assert sample(text, "enrichment_celery_task_seconds_count", task=task) == count + 2
    assert sample(text, "enrichment_celery_task_seconds_bucket", task=task, le="+Inf") == count + 2
    assert sample(text, "enrichment_celery_task_seconds_sum", task=task) > 0


def test_queue_length_per_queue(client, settings):
    prefix = f"test-queues-{time.time_ns()}:"
    settings.CELERY_BROKER_URL = settings.REDIS_URL
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {**settings.CELERY_BROKER_TRANSPORT_OPTIONS, "global_keyprefix": prefix}
    broker = redis.Redis.from_url(settings.REDIS_URL)
    try:
        broker.lpush(f"{prefix}refresh", "a", "b", "c")
        broker.lpush(f"{prefix}refresh\x06\x163", "d")  # a priority sub-queue
        text = scrape(client)
        assert sample(text, "enrichment_celery_queue_length", queue="refresh") == 4
        assert sample(text, "enrichment_celery_queue_length", queue="external") == 0
        assert 'enrichment_celery_queue_length{queue="celery"} 0.0' in text
    finally:
        broker.delete(f"{prefix}refresh", f"{prefix}refresh\x06\x163")


def test_beat_heartbeat(client, tmp_path):
    scheduler = HeartbeatScheduler(app=celery_app, schedule_filename=str(tmp_path / "beat-schedule"), lazy=True)
    before = time.time()
    scheduler._last_beat = 0.0
    scheduler.setup_schedule()
    scheduler.tick()
    value = sample(scrape(client), "enrichment_beat_last_tick_timestamp_seconds")
    assert before - 1 <= value <= time.time() + 1
