"""Real gunicorn and Celery worker processes for the operations tests, on the
pytest database and this run's Redis (a broker key prefix of the run's own)."""

from __future__ import annotations

import os
import secrets
import sys
import time

import httpx
import pytest
import redis
from django.conf import settings

from config.celery_app import app as celery_app
from tests.ops.helpers import Service, free_port, service_env, wait_until

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
    """This process publishes non-eagerly to this run's Redis under ``PREFIX``."""
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


def broker_env(prefix: str) -> dict[str, str]:
    return {"CELERY_BROKER_URL": settings.CELERY_BROKER_URL, "CELERY_BROKER_KEY_PREFIX": prefix}


@pytest.fixture
def start_gunicorn(tmp_path):
    """``start_gunicorn(**env)`` -> (base url, Service, metrics dir): 2 workers,
    the repository's gunicorn.conf.py, production settings."""
    started: list[Service] = []

    def start(**overrides: str):
        port = free_port()
        multiproc = tmp_path / f"prometheus{len(started)}"
        multiproc.mkdir()
        env = service_env(
            DJANGO_SETTINGS_MODULE="config.settings.production",
            SECRET_KEY=secrets.token_urlsafe(50),
            ALLOWED_HOSTS="127.0.0.1",
            SESSION_COOKIE_SECURE="false",
            CSRF_COOKIE_SECURE="false",
            PROMETHEUS_MULTIPROC_DIR=str(multiproc),
            WEB_CONCURRENCY="2",
            API_THROTTLE_RATE="off",
            **overrides,
        )
        argv = [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}"]
        server = Service(argv, env, tmp_path / f"gunicorn{len(started)}.log")
        started.append(server)
        url = f"http://127.0.0.1:{port}"

        def up():
            try:
                return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(up, 30, "gunicorn to answer", server)
        return url, server, multiproc

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def start_worker(tmp_path):
    """``start_worker(**env)`` -> Service: ``celery -A config worker``, one process."""
    started: list[Service] = []

    def start(**overrides: str) -> Service:
        argv = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "celery,external,refresh", "-c", "1", "-l", "info",
                "--without-heartbeat", "--without-mingle", "--without-gossip", "-n", f"ops-{time.monotonic_ns()}@%h"]  # fmt: skip
        worker = Service(argv, service_env(**overrides), tmp_path / f"worker{len(started)}.log")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
