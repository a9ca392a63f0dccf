"""Celery signal handlers: the request id travels with the tasks a request
enqueues, and every finished task is counted for ``/metrics``.

- ``before_task_publish``: the publishing side's ``request_id`` (bound by
  :class:`config.middleware.RequestIdMiddleware`, or by a task that enqueues
  another) goes into the message headers.
- ``task_prerun``: the worker binds ``request_id``, ``task`` and ``task_id``
  to structlog's context, so every line the task logs (and Celery's own
  "succeeded"/"failed" line) carries them; restored at ``task_postrun``.
- ``task_postrun``: outcome and run time into the shared task metrics
  (:mod:`enrichment.ops.task_metrics`).
- Django's ``request_finished``: the request's L1 hits move from the plain
  per-process integer into the (multiprocess) request counter.
"""

from __future__ import annotations

import threading
import time

import structlog
from celery.signals import before_task_publish, task_postrun, task_prerun
from django.core.signals import request_finished

from config.replicas import replica_reset
from enrichment.ops.metrics import flush_tier_counts
from enrichment.ops.task_metrics import record_task

HEADER = "request_id"
_RUNNING: dict[str, tuple[float, dict]] = {}
_LOCK = threading.Lock()


@before_task_publish.connect
def add_request_id(sender=None, headers=None, **_extra) -> None:
    if headers is None or headers.get(HEADER):
        return
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    if request_id:
        headers[HEADER] = request_id


@task_prerun.connect
def bind_task_context(sender=None, task_id=None, task=None, **_extra) -> None:
    request = getattr(task, "request", None)
    values = {"task": getattr(task, "name", None), "task_id": task_id}
    request_id = request.get(HEADER) if request is not None else None
    if request_id:
        values["request_id"] = request_id
    tokens = structlog.contextvars.bind_contextvars(**values)
    replica_reset()  # each task starts unpinned: its reads may use a replica until it writes
    with _LOCK:
        _RUNNING[task_id] = (time.perf_counter(), tokens)


@task_postrun.connect
def task_finished(sender=None, task_id=None, task=None, state=None, **_extra) -> None:
    with _LOCK:
        started, tokens = _RUNNING.pop(task_id, (None, {}))
    seconds = time.perf_counter() - started if started is not None else None
    record_task(getattr(task, "name", None) or "unknown", outcome=(state or "unknown").lower(), seconds=seconds)
    if tokens:
        structlog.contextvars.reset_contextvars(**tokens)


request_finished.connect(flush_tier_counts, dispatch_uid="enrichment.ops.flush_tier_counts")
