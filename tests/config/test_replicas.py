"""Read replicas against a real streaming replica: the test starts its own
primary cluster and a replica of it made with ``pg_basebackup`` (two
PostgreSQL servers on free ports, as the ``postgres`` user), migrates the
primary, and drives the router from a Django process configured with
``DATABASE_REPLICA_URLS``: reads on the replica, writes and read-after-write
on the primary, a lagging replica and a stopped one falling back to the
primary with no failed read."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.ops.helpers import ROOT

pytestmark = pytest.mark.slow

BIN = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))[-1]).parent if glob.glob("/usr/lib/postgresql/*/bin/initdb") else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres(*command: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


def run(*command: str, timeout: float = 120) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, (command, done.stdout[-2000:], done.stderr[-2000:])
    return done.stdout


class Pair:
    def __init__(self, root: Path):
        self.root = root
        self.primary_port, self.replica_port = free_port(), free_port()

    def pg_ctl(self, data: str, port: int, action: str, *extra: str) -> None:
        options = (f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root} -c fsync=off "
                   "-c wal_level=replica -c max_wal_senders=5 -c hot_standby=on -c max_connections=60")  # fmt: skip
        run(*as_postgres(str(BIN / "pg_ctl"), "-D", str(self.root / data), "-l", str(self.root / f"{data}.log"),
                         "-o", options, "-w", "-t", "60", *extra, action))  # fmt: skip

    def url(self, port: int) -> str:
        return f"postgres://postgres@127.0.0.1:{port}/app"

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_REPLICA_URLS")}
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings.local", DATABASE_URL=self.url(self.primary_port),
            DATABASE_REPLICA_URLS=self.url(self.replica_port), DATABASE_REPLICA_MAX_LAG_SECONDS="1",
            DATABASE_REPLICA_CHECK_SECONDS="0.2", ENRICHMENT_HEALTH_WRITES="inline", CONTEXT_CHANGES_IN_PROCESS="false",
            REPLICA_PORT=str(self.replica_port), REPLICA_DATA=str(self.root / "replica"), PG_BIN=str(BIN), **extra,
        )  # fmt: skip
        return env


@pytest.fixture(scope="module")
def pair():
    if BIN is None or shutil.which("runuser") is None:
        pytest.fail("PostgreSQL server binaries (/usr/lib/postgresql/*/bin) and runuser are needed: apt-get install postgresql")
    root = Path(tempfile.mkdtemp(prefix="replica-test-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    pair = Pair(root)
    try:
        run(*as_postgres(str(BIN / "initdb"), "-D", str(root / "primary"), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"))
        pair.pg_ctl("primary", pair.primary_port, "start")
        run(*as_postgres(str(BIN / "psql"), "-h", "127.0.0.1", "-p", str(pair.primary_port), "-U", "postgres", "-c", "CREATE DATABASE app"))
        run(*as_postgres(str(BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(pair.primary_port), "-U", "postgres",
                         "-D", str(root / "replica"), "-R", "-X", "stream", "--no-sync"))  # fmt: skip
        pair.pg_ctl("replica", pair.replica_port, "start")
        migrated = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=pair.env(),
                                  capture_output=True, text=True, timeout=300)  # fmt: skip
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        yield pair
    finally:
        for data in ("replica", "primary"):
            subprocess.run(as_postgres(str(BIN / "pg_ctl"), "-D", str(root / data), "-m", "immediate", "-w", "stop"), capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def django(pair: Pair, script: str) -> str:
    done = subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=pair.env(),
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    return done.stdout


ROUTING = r"""
import datetime as dt, time, psycopg, os
from django.db import connections
from django.test.utils import CaptureQueriesContext
from config.replicas import replica_forget, replica_reset
from customers.models import Customer
from enrichment.engine.service import ContextEnrichmentService
from tests.customers.factories import CustomerFactory

c = Customer.objects.create(external_id="rep_1", company_name="Rep One", customer_since=dt.date(2024, 1, 1))
assert Customer.objects.db == "default", "read after write: the primary"
replica_reset()  # a new request
deadline = time.monotonic() + 20
while not Customer.objects.using("replica_1").filter(external_id="rep_1").exists():
    assert time.monotonic() < deadline, "never replicated"
    time.sleep(0.05)
replica_forget()
assert Customer.objects.db == "replica_1", "reads: the replica"
service = ContextEnrichmentService(enable_caching=False)
with CaptureQueriesContext(connections["replica_1"]) as on_replica, CaptureQueriesContext(connections["default"]) as on_primary:
    context = service.enrich_context("rep_1")
reads = [q["sql"] for q in on_primary.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
assert context.customer_intelligence.company_name == "Rep One" and not context.degraded
assert len(on_replica.captured_queries) >= 5 and not reads, (len(on_replica.captured_queries), reads)

# a lagging replica: replay paused, the primary moves on
standby = psycopg.connect(host="127.0.0.1", port=int(os.environ["REPLICA_PORT"]), dbname="app", user="postgres", autocommit=True)
standby.execute("SELECT pg_wal_replay_pause()")
Customer.objects.create(external_id="rep_2", company_name="Rep Two", customer_since=dt.date(2024, 1, 1))
replica_reset()
time.sleep(1.5)
replica_forget()
assert Customer.objects.db == "default", "a replica lagging past the bound gets no reads"
assert Customer.objects.get(external_id="rep_2").company_name == "Rep Two"
standby.execute("SELECT pg_wal_replay_resume()")
deadline = time.monotonic() + 20
while True:
    replica_forget()
    if Customer.objects.db == "replica_1":
        break
    assert time.monotonic() < deadline, "never caught up"
    time.sleep(0.1)
print("routing ok")
"""


def test_reads_on_the_replica_writes_and_read_after_write_on_the_primary_lag_falls_back(pair):
    assert "routing ok" in django(pair, ROUTING)


STOPPED = r"""
import datetime as dt, os, subprocess, time
from config.replicas import replica_reset
from customers.models import Customer
from enrichment.engine.service import ContextEnrichmentService

Customer.objects.get_or_create(external_id="rep_3", defaults={"company_name": "Rep Three", "customer_since": dt.date(2024, 1, 1)})
time.sleep(1)
service = ContextEnrichmentService(enable_caching=False)
aliases, failures = [], 0
for n in range(150):
    replica_reset()  # each iteration a request
    if n == 50:  # the replica goes away mid-load
        stop = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        pg_ctl = os.environ["PG_BIN"] + "/pg_ctl"
        subprocess.run([*stop, pg_ctl, "-D", os.environ["REPLICA_DATA"], "-m", "immediate", "-w", "stop"], check=True)
    try:
        context = service.enrich_context("rep_3")
        assert not context.degraded, context.degraded
        aliases.append(Customer.objects.db)
    except Exception as exc:  # counted: the test wants none
        failures += 1
        print("failure", n, type(exc).__name__, exc)
print("stopped ok", failures, aliases[:50].count("replica_1"), aliases[50:].count("default"), len(aliases))
"""


def test_a_replica_stopped_mid_load_fails_no_read(pair):
    out = django(pair, STOPPED)
    line = next(line for line in out.splitlines() if line.startswith("stopped ok"))
    _, _, failures, on_replica_before, on_primary_after, total = line.split()
    assert (int(failures), int(total)) == (0, 150), out[-3000:]
    assert int(on_replica_before) == 50 and int(on_primary_after) == 100, out[-3000:]
