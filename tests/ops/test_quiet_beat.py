"""Beat tasks log at INFO only when they do something: the 30-second product
status task says nothing when the state is unchanged, and Celery's own
"received"/"succeeded"/"sending due task" lines for it are dropped."""

from __future__ import annotations

import logging

import pytest
from django.utils import timezone

from enrichment.realtime.product_status import product_status_refresh
from support.models import Incident, IncidentImpact, IncidentStatus

pytestmark = pytest.mark.django_db


def _record(logger: str, msg: str, args) -> logging.LogRecord:
    return logging.getLogger(logger).makeRecord(logger, logging.INFO, __file__, 1, msg, args, None)


@pytest.mark.parametrize("logger", ["celery.app.trace", "celery.worker.strategy"])
def test_celery_lines_of_quiet_tasks_are_dropped(logger):
    target = logging.getLogger(logger)
    quiet = _record(logger, "Task %(name)s[%(id)s] succeeded", {"name": "enrichment.fetch_product_status", "id": "x"})
    loud = _record(logger, "Task %(name)s[%(id)s] succeeded", {"name": "enrichment.refresh_contexts", "id": "x"})
    assert not target.filter(quiet)
    assert target.filter(loud)
    quiet.levelno = logging.ERROR  # failures always pass
    assert target.filter(quiet)


def test_beats_sending_line_is_dropped():
    target = logging.getLogger("celery.beat")
    assert not target.filter(
        _record("celery.beat", "Scheduler: Sending due task %s (%s)", ("fetch-product-status", "enrichment.fetch_product_status"))
    )
    assert target.filter(_record("celery.beat", "Scheduler: Sending due task %s (%s)", ("refresh", "enrichment.refresh_active_contexts")))


def published_levels(caplog) -> list[str]:
    return [r.levelname for r in caplog.records if "product_status_published" in str(r.msg)]


def test_product_status_logs_info_only_when_the_state_changes(caplog):
    caplog.set_level(logging.DEBUG)
    product_status_refresh(now=timezone.now())
    product_status_refresh(now=timezone.now())
    product_status_refresh(now=timezone.now())
    assert published_levels(caplog) == ["INFO", "DEBUG", "DEBUG"]
    caplog.clear()
    Incident.objects.create(
        title="Search is slow", impact=IncidentImpact.MINOR, status=IncidentStatus.INVESTIGATING, started_at=timezone.now()
    )  # the receiver republishes on commit (not in this test transaction); the next beat run sees the change
    product_status_refresh(now=timezone.now())
    product_status_refresh(now=timezone.now())
    assert published_levels(caplog) == ["INFO", "DEBUG"]
