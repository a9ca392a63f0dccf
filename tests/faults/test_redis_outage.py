"""Redis stopped while API requests run: no failed request, and the shared
cache is used again once Redis is back. A private Redis on another local port
is started and stopped, so the shared one is left alone."""

from __future__ import annotations

import socket
import subprocess
import threading
import time

import httpx
import redis

from enrichment.api.tokens import api_token_create
from enrichment.context.scopes import TokenScope
from enrichment.engine import service as service_module
from enrichment.engine.cache import context_key
from enrichment.engine.service import ContextEnrichmentService


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis(port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if redis.Redis(port=port, socket_timeout=0.2).ping():
                return proc
        except redis.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the private redis did not start")


def test_no_request_fails_while_redis_is_down_and_the_cache_comes_back(acme, live_server, transactional_db):
    port = free_port()
    server = start_redis(port)
    service = ContextEnrichmentService(
        enable_caching=True, redis_url=f"redis://127.0.0.1:{port}/0", cache_ttl=60, l1_ttl=0.05
    )
    service_module._SERVICE = service
    token = api_token_create(name="outage", scope=TokenScope.FULL)[1]
    url = f"{live_server.url}/api/v1/customers/customer_123/context/"
    statuses: list[int] = []
    stop = threading.Event()

    def hammer():
        with httpx.Client(timeout=5, headers={"Authorization": f"Bearer {token}"}) as client:
            while not stop.is_set():
                statuses.append(client.get(url).status_code)

    workers = [threading.Thread(target=hammer) for _ in range(3)]
    try:
        for worker in workers:
            worker.start()
        time.sleep(0.7)
        server.kill()  # Redis dies under load
        server.wait(timeout=5)
        time.sleep(1.0)
        server = start_redis(port)  # and comes back, empty
        time.sleep(2.5)  # past the L2 retry delay (L2_RETRY_AFTER)
        stop.set()
        for worker in workers:
            worker.join(timeout=10)
        assert statuses, "no request was made"
        failed = [code for code in statuses if code != 200]
        assert failed == [], f"{len(failed)} of {len(statuses)} requests failed: {sorted(set(failed))}"
        with httpx.Client(timeout=5, headers={"Authorization": f"Bearer {token}"}) as client:
            assert client.get(url + "?refresh=true").status_code == 200
        raw = redis.Redis(port=port)
        stored = [key for key in raw.keys("*") if key.decode().endswith(context_key("customer_123"))]
        assert stored, "the context was not written to Redis again after it came back"
    finally:
        stop.set()
        service_module._SERVICE = None
        server.kill()
        server.wait(timeout=5)
