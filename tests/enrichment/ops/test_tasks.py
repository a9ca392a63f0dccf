"""The nightly rollup verification: beat entry, log line, shared result, /metrics."""

from __future__ import annotations

import logging
import time

import pytest
from celery.schedules import crontab
from django.core.cache import caches

from config.celery_app import app as celery_app
from customers.rollup import engagement_rollup_drift
from enrichment.ops.metrics import last_rollup_drift
from enrichment.ops.tasks import verify_engagement_rollup
from tests.customers.rollup_data import rollup_table, seed_drift, seed_rollup
from tests.enrichment.realtime.test_metrics import sample, scrape

pytestmark = pytest.mark.django_db


def _logged(caplog) -> list[tuple[str, dict]]:
    return [(r.levelname, r.msg) for r in caplog.records if r.name == "enrichment.ops.tasks"]


def test_the_beat_entry_runs_the_task_at_a_quiet_hour():
    celery_app.loader.import_default_modules()
    entry = celery_app.conf.beat_schedule["verify-engagement-rollup"]
    assert entry["task"] == "enrichment.verify_engagement_rollup" in celery_app.tasks
    assert entry["schedule"] == crontab(hour=4, minute=15)


def test_drift_is_logged_as_a_warning_stored_and_exported(client, settings, caplog):
    settings.METRICS_TOKEN = None
    assert "enrichment_rollup_drift_keys" not in scrape(client)  # never verified: no series
    s = seed_rollup()
    seed_drift(s)
    before = rollup_table()
    caplog.set_level(logging.INFO)
    started = time.time()
    result = verify_engagement_rollup.delay().get()
    assert (result["drift_count"], result["drift_customers"], result["unrepaired"], result["rows_written"]) == (3, 3, 3, 0)
    assert rollup_table() == before  # ROLLUP_VERIFY_FIX is off by default
    ((level, event),) = _logged(caplog)
    assert level == "WARNING" and event["event"] == "rollup_verified" and event["drift_count"] == 3
    # Stored in the shared cache (Redis: every process reads it), read by /metrics at scrape time.
    assert caches["default"].get("metrics:rollup_drift")["keys"] == 3 == last_rollup_drift()["keys"]
    text = scrape(client)
    assert sample(text, "enrichment_rollup_drift_keys") == 3
    assert sample(text, "enrichment_rollup_drift_customers") == 3
    assert sample(text, "enrichment_rollup_drift_unrepaired_keys") == 3
    assert started <= sample(text, "enrichment_rollup_verified_timestamp_seconds") <= time.time()


def test_with_rollup_verify_fix_the_drift_is_repaired(client, settings, caplog):
    settings.ROLLUP_VERIFY_FIX = True
    s = seed_rollup()
    seed_drift(s)
    caplog.set_level(logging.INFO)
    result = verify_engagement_rollup()
    assert (result["drift_count"], result["unrepaired"], result["rows_written"]) == (3, 0, 4)
    assert engagement_rollup_drift(since=s.ago(59)).keys == 0
    text = scrape(client)
    assert sample(text, "enrichment_rollup_drift_keys") == 3 and sample(text, "enrichment_rollup_drift_unrepaired_keys") == 0


def test_no_drift_logs_one_info_line_and_exports_zero(client, settings, caplog):
    settings.ROLLUP_VERIFY_DAYS = 0
    seed_rollup()
    caplog.set_level(logging.INFO)
    assert verify_engagement_rollup()["drift_count"] == 0
    ((level, event),) = _logged(caplog)
    assert level == "INFO" and event["drift_count"] == 0 and event["since"] is None and event["customers_checked"] == 3
    text = scrape(client)
    assert "enrichment_rollup_drift_keys 0.0" in text
