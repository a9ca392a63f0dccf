"""`make bench`: every performance figure (bench/README.md) as a ratio against a floor measured
in the same run, on PostgreSQL and Redis. Writes bench/results/latest.json.

    python -m bench.run [--scale full|small] [--skip-api]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def log(message: str) -> None:
    print(message, flush=True)


def ensure_database() -> None:
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    with psycopg.connect(host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db["NAME"],)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{db["NAME"]}"')


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


def p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def each(ids: list[str], fn: Callable[[str], object], rounds: int = 1) -> list[float]:
    samples = []
    for _ in range(rounds):
        for customer_id in ids:
            t0 = time.perf_counter()
            fn(customer_id)
            samples.append((time.perf_counter() - t0) * 1000)
    return samples


@contextmanager
def raw_floor() -> Iterator[Callable[[str], None]]:
    """The floor for cold enrichment: bench/floor.py's one statement through a raw psycopg connection."""
    import psycopg
    from django.conf import settings

    from bench.floor import FLOOR_SQL

    db = settings.DATABASES["default"]
    with psycopg.connect(host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname=db["NAME"]) as raw:
        raw.autocommit = True

        def floor(customer_id: str) -> None:
            raw.execute(FLOOR_SQL, (customer_id,)).fetchone()

        yield floor


def cold_vs_floor_samples(ids: list[str], service, floor: Callable[[str], None]) -> tuple[list[float], list[float]]:
    """One pass over ``ids``: the floor, then cold enrichment, customer by
    customer (same cache state for both): (cold ms, floor ms)."""
    cold: list[float] = []
    floor_samples: list[float] = []
    for customer_id in ids:
        floor_samples += each([customer_id], floor)
        cold += each([customer_id], service.enrich_context)
    return cold, floor_samples


def cold_and_floor(ids: list[str], service) -> tuple[list[float], list[float]]:
    """Cold enrichment with ``service`` (cache off) and the raw-SQL floor,
    interleaved, 2 x ``ids`` after a warm-up: (cold ms, floor ms)."""
    with raw_floor() as floor:
        # Warm-up: imports, prepared statements, and the sample's pages in the
        # buffer cache for both sides, so neither pays the other's disk reads.
        each(ids, floor)
        each(ids, service.enrich_context)
        cold: list[float] = []
        floor_samples: list[float] = []
        for _ in range(2):
            more_cold, more_floor = cold_vs_floor_samples(ids, service, floor)
            cold += more_cold
            floor_samples += more_floor
    return cold, floor_samples


def measure_cold(ids: list[str]) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from enrichment.engine.service import ContextEnrichmentService
    from enrichment.history.writer import health_flush

    service = ContextEnrichmentService(enable_caching=False)
    cold, floor_samples = cold_and_floor(ids, service)
    with CaptureQueriesContext(connection) as queries:
        service.enrich_context(ids[0])
    health_flush()  # the health rows queued so far, written now rather than during the next timing
    heavy: list[float] = []
    light: list[float] = []
    for _ in range(200):  # interleaved, so both see the same background activity
        heavy += each(["bench_heavy"], service.enrich_context)
        light += each(["bench_light"], service.enrich_context)
    return {
        "cold_p50_ms": p(cold, 0.5),
        "cold_p99_ms": p(cold, 0.99),
        "floor_sql_p50_ms": p(floor_samples, 0.5),
        "floor_sql_p99_ms": p(floor_samples, 0.99),
        "cold_vs_floor": p(cold, 0.5) / p(floor_samples, 0.5),
        "heavy_p50_ms": p(heavy, 0.5),
        "light_p50_ms": p(light, 0.5),
        "history_1m_vs_100": p(heavy, 0.5) / p(light, 0.5),
        "queries_per_cold": len(queries.captured_queries),
    }


def measure_cache(ids: list[str]) -> dict:
    import orjson
    import redis
    from django.conf import settings
    from django.core.cache import caches

    from enrichment.engine.cache import context_key
    from enrichment.engine.service import ContextEnrichmentService
    from enrichment.history.writer import health_flush

    l2_only = ContextEnrichmentService(enable_caching=True, redis_url=settings.REDIS_URL, l1_max_entries=0, cache_ttl=3600)
    for customer_id in ids:
        l2_only.enrich_context(customer_id, force_refresh=True)
    health_flush()
    each(ids[:50], l2_only.enrich_context)
    l2 = each(ids, l2_only.enrich_context, rounds=3)

    raw = redis.Redis.from_url(settings.REDIS_URL)
    backend = caches[settings.CONTEXT_CACHE_ALIAS]
    keys = [backend.make_and_validate_key(context_key(cid)) for cid in ids]
    assert all(raw.get(key) for key in keys[:5]), "the L2 entries must exist under the same keys"

    def floor(key: str) -> None:
        json.loads(raw.get(key))

    def fast_floor(key: str) -> None:  # the decoder the cache itself uses (enrichment.context.codec)
        orjson.loads(raw.get(key))

    each(keys[:50], floor)
    floor_samples = each(keys, floor, rounds=3)
    each(keys[:50], fast_floor)
    fast_floor_samples = each(keys, fast_floor, rounds=3)

    with_l1 = ContextEnrichmentService(enable_caching=True, redis_url=settings.REDIS_URL, cache_ttl=3600, l1_ttl=3600)
    for customer_id in ids:
        with_l1.enrich_context(customer_id)
    health_flush()
    l1 = each(ids, with_l1.enrich_context, rounds=20)
    entry_bytes = statistics.median(len(raw.get(key)) for key in keys[:50])
    return {
        "l2_p50_ms": p(l2, 0.5),
        "l2_p99_ms": p(l2, 0.99),
        "floor_redis_p50_ms": p(floor_samples, 0.5),
        "l2_vs_floor": p(l2, 0.5) / p(floor_samples, 0.5),
        "floor_redis_fast_p50_ms": p(fast_floor_samples, 0.5),
        "l2_vs_fast_floor": p(l2, 0.5) / p(fast_floor_samples, 0.5),
        "l1_p50_ms": p(l1, 0.5),
        "l1_p99_ms": p(l1, 0.99),
        "l2_vs_l1": p(l2, 0.5) / p(l1, 0.5),
        "l2_entry_bytes": entry_bytes,
    }


def measure_batch(ids: list[str], batch_ids: list[str]) -> dict:
    from django.conf import settings

    from enrichment.engine.service import ContextEnrichmentService

    service = ContextEnrichmentService(enable_caching=True, redis_url=settings.REDIS_URL, cache_ttl=3600)
    loop_ids = ids[:300]
    t0 = time.perf_counter()
    for customer_id in loop_ids:
        service.enrich_context(customer_id, force_refresh=True)
    loop_per_s = len(loop_ids) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    done = service.refresh_many(batch_ids, chunk_size=500)
    batch_per_s = done / (time.perf_counter() - t0)
    return {"loop_per_s": loop_per_s, "batch_per_s": batch_per_s, "batch_vs_loop": batch_per_s / loop_per_s}


def main() -> int:
    from bench.databases import SCALE_DATABASES

    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", choices=sorted(SCALE_DATABASES), default=os.environ.get("BENCH_SCALE", "full"))
    parser.add_argument("--skip-api", action="store_true")
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--generate-only", action="store_true", help="create the data set and stop")
    args = parser.parse_args()
    os.environ["BENCH_SCALE"] = args.scale  # bench/settings.py: the scale's own database and Redis DB

    import django

    django.setup()
    ensure_database()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from bench.datagen import SCALES, disk_usage, ensure_data, generation_record
    from customers.models import Customer

    scale = SCALES[args.scale]
    database = settings.DATABASES["default"]["NAME"]
    log(f"data set ({scale.name}, {database}): {scale.customers:,} customers, {scale.events:,} events, {scale.tickets:,} tickets")
    have = ensure_data(scale, log=log)
    if args.generate_only:
        return 0

    rng = random.Random(7)
    all_ids = list(Customer.objects.exclude(external_id__in=["bench_heavy", "bench_light"]).values_list("external_id", flat=True))
    ids = rng.sample(all_ids, min(args.sample, len(all_ids)))
    batch_ids = rng.sample(all_ids, min(5000, len(all_ids)))

    from enrichment.realtime.product_status import product_status_publish

    product_status_publish()  # as the beat task does in production: incidents read once, not per context
    results: dict = {"scale": have, "cores": os.cpu_count(), "bench_scale": scale.name}
    log("cold enrichment ...")
    results.update(measure_cold(ids))
    if scale.compare_with:
        from bench.compare import measure_vs

        log(f"cold enrichment, {scale.compare_with} and {scale.name} in alternating rounds ...")
        url, redis_url = os.environ["DATABASE_URL"], settings.REDIS_URL
        results.update(measure_vs(scale.name, scale.compare_with, url=url, redis_url=redis_url, sample=args.sample))
    log("cache tiers ...")
    results.update(measure_cache(ids))
    log("batch refresh ...")
    results.update(measure_batch(ids, batch_ids))
    if not args.skip_api:
        from bench.load import measure_api

        log("API under load (gunicorn) ...")
        results.update(measure_api(ids))
    results.update(disk_usage())
    generation = generation_record(scale.name)
    if generation:
        results |= {"generation": generation, "generation_seconds": generation["generation_seconds"]}
    write_results(scale.name, results)
    return 0


def write_results(scale_name: str, results: dict) -> None:
    results = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in results.items()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "latest.json" if scale_name == "full" else f"latest-{scale_name}.json"
    (RESULTS / name).write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print_table(results)
    log(f"written: bench/results/{name}")


TARGETS = [
    ("cold_vs_floor", "cold enrichment p50 / one raw SQL statement", "<=", 3.0),
    ("history_1m_vs_100", "1,000,000-event customer / 100-event customer", "<=", 1.5),
    ("queries_per_cold", "queries per cold enrichment", "<=", 8),
    ("l2_vs_floor", "L2 hit p50 / raw redis GET + json.loads", "<=", 1.2),
    ("l2_vs_fast_floor", "L2 hit p50 / raw redis GET + orjson.loads (reported)", "<=", 1.2),
    ("l2_vs_l1", "L2 hit p50 / L1 hit p50", ">=", 20.0),
    ("api_vs_bare", "API throughput / bare DRF view", ">=", 0.7),
    ("api_experiment_vs_bare", "API throughput, experiment running / bare DRF view", ">=", 0.7),
    ("batch_vs_loop", "batch refresh / one-by-one loop", ">=", 10.0),
    ("cold_xl_vs_full", "cold p50 at xl / at full (same run, alternating)", "<=", 1.2),
]


def print_table(results: dict) -> None:
    log("")
    log(f"{'figure':<50} {'value':>10}  target   ok")
    for key, label, op, target in TARGETS:
        if not isinstance(results.get(key), int | float):
            if key in results:
                log(f"{label:<50} {results[key]}")
            continue
        value = results[key]
        ok = value <= target if op == "<=" else value >= target
        log(f"{label:<50} {value:>10.3f}  {op} {target:<5} {'yes' if ok else 'NO'}")
    log("")
    for key in ("cold_p50_ms", "cold_p99_ms", "floor_sql_p50_ms", "l2_p50_ms", "floor_redis_p50_ms", "floor_redis_fast_p50_ms",
                "l1_p50_ms", "api_rps", "bare_rps", "batch_per_s", "loop_per_s", "web_rss_mb", "cold_p50_full_ms", "cold_p50_xl_ms",
                "floor_sql_p50_full_ms", "floor_sql_p50_xl_ms", "generation_seconds", "disk_pretty"):
        if key in results:
            log(f"  {key:<22} {results[key]}")


if __name__ == "__main__":
    sys.exit(main())
