"""A request id followed from an HTTP request (to gunicorn), through the Celery
task it enqueues, to a real worker process: the access line, the application's
lines and the worker's lines of that request all carry it."""

from __future__ import annotations

import json
import re
import time
from io import StringIO

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from customers.models import Customer
from tests.ops.conftest import broker_env
from tests.ops.helpers import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def json_lines(text: str) -> list[dict]:
    lines = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
    return lines


def admin_session(url: str) -> tuple[httpx.Client, str]:
    """Logged in to the admin over HTTP; returns the client and its CSRF token."""
    client = httpx.Client(base_url=url, timeout=10)
    client.get("/admin/login/")
    token = client.cookies["csrftoken"]
    login = client.post(
        "/admin/login/", data={"csrfmiddlewaretoken": token, "username": "ops", "password": "ops-pass-1", "next": "/admin/"}
    )
    assert login.status_code == 302, login.text[:500]
    return client, client.cookies["csrftoken"]


def test_request_id_from_gunicorn_to_the_worker(broker_prefix, start_gunicorn, start_worker, settings):
    call_command("seed_demo", customers=0, stdout=StringIO())
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]  # what the server checks with
    get_user_model().objects.create_superuser("ops", "ops@example.com", "ops-pass-1")
    customer = Customer.objects.get(external_id="customer_123")
    env = {**broker_env(broker_prefix), "CELERY_TASK_ALWAYS_EAGER": "false"}
    url, web, _ = start_gunicorn(**env)
    worker = start_worker(**env)

    request_id = f"trace-{time.time_ns()}"
    client, csrf = admin_session(url)
    response = client.post(
        "/admin/customers/customer/",
        data={"csrfmiddlewaretoken": csrf, "action": "refresh_selected_contexts", "_selected_action": [str(customer.pk)]},
        headers={"X-Request-ID": request_id},
    )
    assert response.status_code == 302, response.text[:500]
    assert response.headers["X-Request-ID"] == request_id

    def traced(service):
        return [line for line in json_lines(service.text()) if line.get("request_id") == request_id]

    done = wait_until(lambda: [x for x in traced(worker) if re.search(r"succeeded", x.get("event", ""))], 60, "the task's line", worker)
    access = wait_until(lambda: [x for x in traced(web) if x.get("event") == "http_request"], 10, "the access line", web)
    assert (access[0]["method"], access[0]["path"], access[0]["status"]) == ("POST", "/admin/customers/customer/", 302)
    assert done[0]["task"] == "enrichment.refresh_contexts" and done[0]["task_id"]
    assert all(line.get("task") == "enrichment.refresh_contexts" for line in traced(worker))  # only that task's lines
