"""/healthz (liveness: no dependency) and /readyz (readiness: the database is
required and answered for within a second; Redis and the broker degrade).

Redis is a private ``redis-server`` the test starts and kills; the database is
made unreachable by pointing new connections at a closed port, keeping the
connection pool's production wait (5 s) so only the readiness deadline bounds
the answer."""

from __future__ import annotations

import contextlib
import time

import pytest
from django.core.cache import caches
from django.test import Client

from enrichment.ops import readiness as readiness_module
from tests.ops.helpers import PrivateRedis, database_on_closed_port

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_probe_left_running():
    yield
    for future in list(readiness_module._INFLIGHT.values()):
        with contextlib.suppress(Exception):  # only waiting for it to end
            future.result(timeout=15)
    readiness_module._INFLIGHT.clear()


@pytest.fixture
def private_redis(tmp_path, settings):
    server = PrivateRedis(tmp_path)
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": server.url,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.25, "SOCKET_TIMEOUT": 0.25},
        },
    }
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = server.url
    yield server
    server.stop()
    caches["default"].close()


def get(path: str):
    started = time.monotonic()
    response = Client().get(path)
    return response, time.monotonic() - started


def test_healthz_is_liveness_only():
    response, _ = get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_ok_with_every_dependency_up(private_redis):
    response, _ = get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "cache": "ok", "broker": "ok"}


def test_readyz_reports_eager_celery_without_a_broker():
    response, _ = get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "broker": "eager"}


def test_redis_stopped_is_degraded_not_failing(private_redis):
    assert get("/readyz")[0].json()["status"] == "ok"
    private_redis.stop()
    response, elapsed = get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["cache"] in ("unreachable", "timeout")
    assert body["checks"]["broker"] in ("unreachable", "timeout")
    assert elapsed < 1.0
    assert get("/healthz")[0].status_code == 200


def test_database_unreachable_answers_503_within_a_second():
    with database_on_closed_port():
        response, elapsed = get("/readyz")
        again, elapsed_again = get("/readyz")  # the probe still waiting on the pool is reused, not doubled
        live, live_elapsed = get("/healthz")
    assert response.status_code == 503, response.content
    assert response.json()["status"] == "error"
    assert response.json()["checks"]["database"] in ("unreachable", "timeout")
    assert elapsed < 1.0 and elapsed_again < 1.0, (elapsed, elapsed_again)
    assert again.status_code == 503
    assert live.status_code == 200 and live_elapsed < 0.5
