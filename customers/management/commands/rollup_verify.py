"""python manage.py rollup_verify [--days N] [--sample K] [--fix] [--dry-run] [--chunk-size C]

Compares the daily engagement rollup with the raw events (customers.rollup)
and reports the drift; ``--fix`` rebuilds exactly the drifted customer-days
and verifies them again. Exits 1 when drift was found and not repaired.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from customers.management.progress import progress_chunks
from customers.partitions import events_raw_since
from customers.rollup import (
    RollupDrift,
    engagement_rollup_drift_chunked,
    engagement_rollup_fix,
    rollup_chunks,
    rollup_customer_pks,
    rollup_since,
)


def drift_summary(drift: RollupDrift, *, days: int, seconds: float) -> str:
    window = f"the last {days} days (since {drift.since})" if drift.since else "all history"
    kept = events_raw_since()
    if kept is not None and (drift.since is None or drift.since < kept.date()):  # the retention dropped the events before
        window += f" (raw events kept since {kept:%Y-%m-%d})"
    found = (
        f"drift in {drift.keys} keys (missing {drift.missing}, extra {drift.extra}, wrong {drift.wrong}) of {drift.customers} customers"
        if drift.keys
        else "no drift"
    )
    return f"rollup_verify: {drift.customers_checked} customers, {window}: {found} [{seconds:.1f} s]"


class Command(BaseCommand):
    help = "Compare the engagement rollup with the raw events and report (or --fix) the drift. Exit status 1: drift left."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=60, help="Check the last N UTC days, today included (default 60); 0: all history.")
        parser.add_argument("--sample", type=int, metavar="K", help="Check a random sample of K customers instead of all of them.")
        parser.add_argument("--fix", action="store_true", help="Rebuild the drifted customer-days from the events, then verify again.")
        parser.add_argument("--dry-run", action="store_true", help="With --fix: say what would be rebuilt and change nothing.")
        parser.add_argument("--chunk-size", type=int, default=1000, help="Customers compared per statement (default 1000).")

    def handle(self, *args, days: int, sample: int | None, fix: bool, dry_run: bool, chunk_size: int, **options):
        if days < 0 or chunk_size < 1 or (sample is not None and sample < 1):
            raise CommandError("--days must be >= 0, --sample and --chunk-size >= 1.")
        started = time.monotonic()
        since = rollup_since(days=days)
        chunks = list(rollup_chunks(rollup_customer_pks(sample=sample), size=chunk_size))
        drift = engagement_rollup_drift_chunked(since=since, chunks=progress_chunks(chunks, stdout=self.stdout, desc="verify"))
        self.stdout.write(drift_summary(drift, days=days, seconds=time.monotonic() - started))
        for example in drift.examples:
            self.stdout.write(f"  {example}")
        if not drift.keys:
            return
        if not fix or dry_run:
            if fix:
                self.stdout.write(f"dry run: would rebuild {len(drift.customer_days)} customer-days of {drift.customers} customers")
            raise CommandError(f"rollup drift: {drift.keys} keys of {drift.customers} customers not repaired", returncode=1)
        written, again = engagement_rollup_fix(drift=drift, chunk_size=chunk_size)
        self.stdout.write(
            f"rollup_verify --fix: rebuilt {len(drift.customer_days)} customer-days of {drift.customers} customers, "
            f"{written} rows written; verified again: {again.keys} keys drift [{time.monotonic() - started:.1f} s]"
        )
        if again.keys:
            raise CommandError(f"rollup drift: {again.keys} keys still differ after the repair", returncode=1)
