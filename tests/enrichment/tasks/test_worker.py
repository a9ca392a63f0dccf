"""A real Celery worker process on a real Redis broker, talking to the vendor
stand-in over HTTP and to the pytest database.

The worker runs ``config.settings.local`` with the environment a deployment
would give it (DATABASE_URL, REDIS_URL, CELERY_BROKER_URL, vendor keys and base
URLs). Its Redis cache is the tests' (so its invalidations and circuit state
are visible here); the broker is a spare Redis database with a key prefix of
this run's own (cleaned around each test). Every worker is started in its own process group and killed at the end.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from config.celery_app import app as celery_app
from enrichment.context.sections import CompanyEnrichment
from enrichment.demo.fake_vendors import Reply
from enrichment.engine.service import get_context_service
from enrichment.vendors.models import ExternalRecord
from enrichment.vendors.tasks import fetch_external_enrichment
from tests.enrichment.external_fixtures import KEYS, make_customer

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[3]
# A spare Redis database, flushed around each test (override to avoid a clash).
BROKER = os.environ.get("TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")


class Worker:
    def __init__(self, env: dict[str, str], log: Path):
        self.env, self.log = env, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> Worker:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "celery,external,refresh", "-c", "1", "-l", "info",
                 "--without-heartbeat", "--without-mingle", "--without-gossip", "-n", f"test-{time.monotonic_ns()}@%h"],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        return self

    def pool_children(self) -> list[int]:
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [int(pid) for pid in path.read_text().split()] if path.exists() else []

    def wait_for_pool_child(self, timeout: float = 15) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if children := self.pool_children():
                return children[0]
            time.sleep(0.05)
        raise AssertionError(f"no pool child appeared:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool children) at once."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()


# Every key of this run's broker starts with it: concurrent test runs sharing
# the Redis database never take each other's messages.
PREFIX = f"test-{os.getpid()}-{time.time_ns()}:"


@pytest.fixture
def broker():
    client = redis.Redis.from_url(BROKER)

    def clean():
        for key in client.scan_iter(match=f"{PREFIX}*", count=1000):
            client.delete(key)

    clean()
    yield client
    clean()
    client.close()


@pytest.fixture
def workers(vendors_on, broker, tmp_path):
    """Start workers with ``workers(**env_overrides)``; all are stopped at the end."""
    started: list[Worker] = []
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False

    def start(**overrides: str) -> Worker:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DEBUG": "false",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}",
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": BROKER,
            "CELERY_BROKER_KEY_PREFIX": PREFIX,
            "CELERY_RESULT_BACKEND": BROKER,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "CELERY_VISIBILITY_TIMEOUT": "2",
            "CELERY_UNACKED_RESTORE_INTERVAL": "1",
            "CONTEXT_L1_TTL": "1",
            "EXTERNAL_HTTP_READ_TIMEOUT": "5",
            "EXTERNAL_RETRY_BASE_SECONDS": "0.1",
            **KEYS,
            **{f"{name}_BASE_URL": vendors_on.url for name in ("CLEARBIT", "CRUNCHBASE", "NEWSAPI", "PEOPLEDATALABS")},
            **overrides,
        }
        env = {k: v for k, v in env.items() if v is not None}
        worker = Worker(env, tmp_path / f"worker{len(started)}.log").start()
        started.append(worker)
        return worker

    try:
        yield start
    finally:
        celery_app.conf.task_always_eager = eager
        for worker in started:
            worker.stop()


def assert_committed(customer) -> None:
    """What the worker will see: the row, read through a connection of its own."""
    import psycopg

    name = connection.settings_dict["NAME"]
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{name}", connect_timeout=5) as other:
        row = other.execute("SELECT external_id FROM customers_customer WHERE id = %s", [customer.pk]).fetchone()
    assert row is not None, f"customer {customer.pk} not visible in {name} (in_atomic_block={connection.in_atomic_block})"


def enqueue(task, *args) -> None:
    """Send to the test broker (the pytest process's own settings run tasks eagerly)."""
    with celery_app.connection_for_write(BROKER, transport_options={"global_keyprefix": PREFIX}) as conn:
        task.apply_async(args=args, connection=conn)


def wait_until(predicate, timeout: float, what: str, logs: list[Path] = (), describe=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    tail = "\n".join(p.read_text()[-4000:] for p in logs if p.exists())
    seen = f"\nlast seen: {describe()}" if describe else ""
    raise AssertionError(f"timed out after {timeout}s waiting for {what}{seen}\n{tail}")


def test_a_worker_fetches_the_vendors_and_the_context_changes(vendors_on, workers):
    customer = make_customer(external_id="customer_worker", domain="acme.com", name="Acme Corp")
    service = get_context_service()
    assert service.enrich_context("customer_worker").company_enrichment == CompanyEnrichment()  # now cached in L1 and L2

    worker = workers()
    assert_committed(customer)
    enqueue(fetch_external_enrichment, customer.pk)

    # Wait for the worker to store all three before reading the context again: a
    # context computed while the worker writes could be cached after its
    # invalidation (a race of the context cache, not of the tasks).
    wait_until(lambda: ExternalRecord.objects.filter(customer=customer, status="ok").count() == 3, 30, "three stored records", [worker.log])

    def filled():
        ce = service.enrich_context("customer_worker").company_enrichment
        return ce if ce.name and ce.last_funding_type and ce.news else None  # all three vendors in

    def describe():
        ctx = service.enrich_context("customer_worker")
        records = list(ExternalRecord.objects.filter(customer=customer).values_list("vendor", "status"))
        return f"{ctx.company_enrichment!r} sources={ctx.sources.get('company_enrichment')!r} cache_hit={ctx.cache_hit} records={records}"

    ce = wait_until(filled, 10, "the context to show the external data", [worker.log], describe)
    assert (ce.name, ce.employees, ce.funding_total_usd, ce.last_funding_type) == ("Acme Corp", 250, 42_000_000, "series_b")
    assert ce.news[0].title == "Acme Corp raises $20M Series B to expand in Europe"
    rows = list(ExternalRecord.objects.filter(customer=customer).values_list("vendor", "status", "attempts"))
    assert sorted(rows) == [("clearbit", "ok", 1), ("crunchbase", "ok", 1), ("newsapi", "ok", 1)]
    assert [len(vendors_on.calls_to(v)) for v in ("clearbit", "crunchbase", "newsapi")] == [1, 1, 1]


def test_a_task_killed_with_its_worker_runs_again_on_a_restarted_worker(vendors_on, workers):
    customer = make_customer(external_id="customer_killed", domain="acme.com", name="Acme Corp")
    vendors_on.script("clearbit", Reply(hang=60))  # the first call hangs: the task is mid-flight
    only_clearbit = {"CRUNCHBASE_API_KEY": None, "NEWSAPI_KEY": None, "EXTERNAL_HTTP_READ_TIMEOUT": "30"}
    first = workers(**only_clearbit)
    assert_committed(customer)
    enqueue(fetch_external_enrichment, customer.pk)
    assert vendors_on.wait_for_calls("clearbit", 1, timeout=30), first.log.read_text()[-3000:]
    first.kill()  # SIGKILL: no chance to ack, reject or clean up
    vendors_on.release()
    assert not ExternalRecord.objects.filter(customer=customer, status="ok").exists()

    second = workers(**only_clearbit)  # the unacked message comes back after the visibility timeout
    wait_until(
        lambda: ExternalRecord.objects.filter(customer=customer, vendor="clearbit", status="ok").exists(),
        30,
        "the re-delivered task to complete",
        [first.log, second.log],
    )
    assert ExternalRecord.objects.filter(customer=customer).count() == 1
    record = ExternalRecord.objects.get(customer=customer)
    assert (record.status, record.payload["name"]) == ("ok", "Acme Corp")
    assert len(vendors_on.calls_to("clearbit")) == 2


def test_a_pool_process_killed_mid_task_is_rejected_and_its_task_runs_again(vendors_on, workers):
    customer = make_customer(external_id="customer_child", domain="acme.com", name="Acme Corp")
    vendors_on.script("clearbit", Reply(hang=60))
    worker = workers(CRUNCHBASE_API_KEY=None, NEWSAPI_KEY=None, EXTERNAL_HTTP_READ_TIMEOUT="30")
    enqueue(fetch_external_enrichment, customer.pk)
    assert vendors_on.wait_for_calls("clearbit", 1, timeout=30), worker.log.read_text()[-3000:]
    os.kill(worker.wait_for_pool_child(), signal.SIGKILL)  # the main process stays: reject_on_worker_lost re-queues
    vendors_on.release()
    wait_until(
        lambda: ExternalRecord.objects.filter(customer=customer, vendor="clearbit", status="ok").exists(),
        30,
        "the re-queued task to complete",
        [worker.log],
    )
    assert ExternalRecord.objects.filter(customer=customer).count() == 1
    assert len(vendors_on.calls_to("clearbit")) == 2
    assert "WorkerLostError" in worker.log.read_text()
