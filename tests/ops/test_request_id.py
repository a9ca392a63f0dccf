"""A request id followed from an HTTP request, through the Celery task it
enqueues, to the log lines of a real worker process (``celery -A config worker``)."""

from __future__ import annotations

import json
import os
import sys
import time

import pytest
import redis
from django.conf import settings
from django.core.management import call_command

from config.celery_app import app as celery_app
from customers.models import Customer
from tests.ops.helpers import Service, service_env, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PREFIX = f"test-ops-{os.getpid()}-{time.time_ns()}:"


def reset_publisher() -> None:
    """Forget pooled broker connections and producers: the next publish connects
    with the current broker settings (an earlier test may have pooled others)."""
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
        celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def broker_prefix(settings):
    """Publish non-eagerly to this run's Redis with a key prefix of our own."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    reset_publisher()
    eager, options = celery_app.conf.task_always_eager, dict(celery_app.conf.broker_transport_options or {})
    url = celery_app.conf.broker_url
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_transport_options = {**options, "global_keyprefix": PREFIX}
    celery_app.conf.broker_url = settings.CELERY_BROKER_URL
    settings.CELERY_TASK_ALWAYS_EAGER = False
    yield PREFIX
    celery_app.conf.task_always_eager = eager
    celery_app.conf.broker_transport_options = options
    celery_app.conf.broker_url = url
    reset_publisher()
    for key in client.scan_iter(match=f"{PREFIX}*", count=1000):
        client.delete(key)
    client.close()


def json_lines(text: str) -> list[dict]:
    lines = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
    return lines


def test_request_id_reaches_the_worker(admin_client, broker_prefix, tmp_path):
    call_command("seed_demo", customers=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    customer = Customer.objects.get(external_id="customer_123")
    request_id = f"trace-{time.time_ns()}"

    response = admin_client.post(
        "/admin/customers/customer/",
        {"action": "refresh_selected_contexts", "_selected_action": [customer.pk]},
        HTTP_X_REQUEST_ID=request_id,
    )
    assert response.status_code == 302
    assert response.wsgi_request.request_id == request_id

    env = service_env(CELERY_BROKER_URL=settings.CELERY_BROKER_URL, CELERY_BROKER_KEY_PREFIX=broker_prefix)
    worker = Service(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "celery,external,refresh", "-c", "1", "-l", "info",
         "--without-heartbeat", "--without-mingle", "--without-gossip", "-n", f"ops-{time.monotonic_ns()}@%h"],
        env, tmp_path / "worker.log",
    )  # fmt: skip
    try:

        def traced():
            return [line for line in json_lines(worker.text()) if line.get("request_id") == request_id]

        lines = wait_until(lambda: [x for x in traced() if "succeeded" in x.get("event", "")], 60, "the task's success line", worker)
    finally:
        worker.stop()
    assert lines[0]["task"] == "enrichment.refresh_contexts"
    assert lines[0]["task_id"]
    # every line the task wrote carries the id; the next task's lines do not inherit it
    assert all(line.get("task") == "enrichment.refresh_contexts" for line in traced())
