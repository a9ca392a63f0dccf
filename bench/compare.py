"""Cold p50 at one scale against another in the same run (xl against full).

The service reads Django's ``default`` database, so each data set gets its own
worker process (``python -m bench.compare``, pointed at it by ``DATABASE_URL``)
holding a cold-path service and a raw connection for the floor. Each worker
draws 300 random customers of its data set and warms them up (the standard
cold measurement's warm-up); then the two take turns in blocks of
``BLOCK`` customers (full, xl, full, xl ...: one block is a fraction of a second)
over ``BENCH_COMPARE_PASSES`` (4) passes of their sample, each customer the
floor statement then a cold enrichment. Whatever else the machine does hits
both sides alike, which rounds of whole seconds did not ensure on a shared
machine.

The compared data set is only read (besides what any cold enrichment writes:
the sampled customers' health rows), generated only when its database does not
exist, and migrated when behind (as ``make bench`` does at every start); one
of another size is left alone and the comparison skipped. Both workers use the
running scale's Redis DB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

ROOT = Path(__file__).resolve().parent.parent
PASSES = int(os.environ.get("BENCH_COMPARE_PASSES", "4"))
BLOCK = 10  # customers per turn
MARK = "BENCH-COMPARE "  # the protocol's lines on a worker's stdout (logs may share it)


def _log(message: str) -> None:
    print(message, flush=True)


def database_state(url: str, scale) -> str:
    """'ready', 'absent', or why the data set at ``url`` is not ``scale``'s (read only)."""
    import psycopg

    from bench.datagen import EVENTS_ESTIMATE

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return "absent"
    with psycopg.connect(url, autocommit=True) as conn:
        if not conn.execute("SELECT to_regclass('customers_customer') IS NOT NULL").fetchone()[0]:
            return "not migrated"
        customers, tickets, events = conn.execute(
            f"SELECT (SELECT count(*) FROM customers_customer), (SELECT count(*) FROM support_ticket), ({EVENTS_ESTIMATE})"
        ).fetchone()
    if customers != scale.customers or tickets != scale.tickets or events < scale.events * 0.95:
        return f"another size: {customers} customers, about {events} events, {tickets} tickets"
    return "ready"


def _env(url: str, redis_url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis_url, "DJANGO_SETTINGS_MODULE": "bench.settings"}


class Worker:
    """A worker process measuring cold enrichment on one data set, block by block."""

    def __init__(self, url: str, redis_url: str, *, sample: int, seed: int):
        command = [sys.executable, "-m", "bench.compare", "--sample", str(sample), "--seed", str(seed)]
        pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE}
        self.process = subprocess.Popen(command, cwd=ROOT, env=_env(url, redis_url), text=True, **pipes)
        self.size = self._answer()["ready"]

    def _answer(self) -> dict:
        for line in self.process.stdout:
            if line.startswith(MARK):
                return json.loads(line[len(MARK) :])
        raise RuntimeError(f"compare worker ended (exit {self.process.wait()})")

    def block(self, start: int, stop: int) -> dict[str, list[float]]:
        self.process.stdin.write(f"{start} {stop}\n")
        self.process.stdin.flush()
        return self._answer()

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


def measure_vs(this: str, other: str, *, url: str, redis_url: str, sample: int) -> dict:
    """Cold p50 of scale ``this`` (its data set at ``url``) against scale
    ``other``'s, taking turns; generates ``other`` when its database is absent.
    Keys: cold_p50_{this}_ms, cold_p50_{other}_ms, cold_{this}_vs_{other} ..."""
    from bench.databases import compare_database_url
    from bench.datagen import SCALES
    from bench.run import p

    other_url = compare_database_url(other)
    state = database_state(other_url, SCALES[other])
    if state == "absent":
        _log(f"  the {other} data set is absent: generating it ({urlsplit(other_url).path.lstrip('/')})")
        subprocess.run([sys.executable, "-m", "bench.run", "--scale", other, "--generate-only"], cwd=ROOT, env=_env(other_url, redis_url))
        state = database_state(other_url, SCALES[other])
    if state != "ready":
        _log(f"  comparison with {other} skipped: {state}")
        return {f"cold_{this}_vs_{other}": f"skipped: {state}"}
    workers = {other: Worker(other_url, redis_url, sample=sample, seed=7), this: Worker(url, redis_url, sample=sample, seed=7)}
    samples = {side: {"cold": [], "floor": []} for side in workers}
    try:
        size = min(worker.size for worker in workers.values())
        for n in range(PASSES):
            for start in range(0, size, BLOCK):
                for side, worker in workers.items():
                    found = worker.block(start, min(start + BLOCK, size))
                    samples[side]["cold"] += found["cold"]
                    samples[side]["floor"] += found["floor"]
            _log(f"  pass {n + 1}: " + ", ".join(f"{side} cold p50 {p(samples[side]['cold'], 0.5):.3f} ms" for side in workers))
    finally:
        for worker in workers.values():
            worker.close()
    figures = {}
    for side in (other, this):
        figures |= {
            f"cold_p50_{side}_ms": p(samples[side]["cold"], 0.5),
            f"cold_p99_{side}_ms": p(samples[side]["cold"], 0.99),
            f"floor_sql_p50_{side}_ms": p(samples[side]["floor"], 0.5),
        }
    return {
        **figures,
        f"cold_{this}_vs_{other}": figures[f"cold_p50_{this}_ms"] / figures[f"cold_p50_{other}_ms"],
        f"floor_{this}_vs_{other}": figures[f"floor_sql_p50_{this}_ms"] / figures[f"floor_sql_p50_{other}_ms"],
        "compare": f"{other} and {this} taking turns in blocks of {BLOCK} customers, {PASSES} passes of {size} customers each",
    }


def main() -> int:
    """A worker: draws and warms its sample, then measures the blocks asked on stdin."""
    import argparse
    import random

    import django

    parser = argparse.ArgumentParser()
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from bench.run import cold_vs_floor_samples, each, raw_floor
    from customers.models import Customer
    from enrichment.engine.service import ContextEnrichmentService
    from enrichment.history.writer import health_flush
    from enrichment.realtime.product_status import product_status_publish

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        print("migrating (as make bench does at every start)", file=sys.stderr)
        call_command("migrate", verbosity=0)
    all_ids = list(Customer.objects.exclude(external_id__in=["bench_heavy", "bench_light"]).values_list("external_id", flat=True))
    ids = random.Random(args.seed).sample(all_ids, min(args.sample, len(all_ids)))
    product_status_publish()
    service = ContextEnrichmentService(enable_caching=False)
    with raw_floor() as floor:
        each(ids, floor)  # the standard warm-up (bench.run.cold_and_floor)
        each(ids, service.enrich_context)
        print(MARK + json.dumps({"ready": len(ids)}), flush=True)
        for line in sys.stdin:
            start, stop = map(int, line.split())
            cold, floor_samples = cold_vs_floor_samples(ids[start:stop], service, floor)
            print(MARK + json.dumps({"cold": cold, "floor": floor_samples}), flush=True)
    health_flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
