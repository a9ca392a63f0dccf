"""python manage.py rollup_rebuild [--since DATE] [--customer EXTERNAL_ID ...] [--dry-run] [--chunk-size C]

Rebuilds the daily engagement rollup from the raw events, a chunk of
customers per transaction (memory stays bounded), with a progress bar on a
terminal and one summary line at the end.
"""

from __future__ import annotations

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError

from customers.management.progress import progress_chunks
from customers.models import Customer
from customers.rollup import engagement_rollup_days, engagement_rollup_rows, rollup_chunks, rollup_customer_pks
from customers.services import engagement_rollup_rebuild


class Command(BaseCommand):
    help = "Rebuild the daily engagement rollup from the raw events (all customers, or those given), in chunks of customers."

    def add_arguments(self, parser):
        parser.add_argument(
            "--since",
            type=dt.date.fromisoformat,
            metavar="DATE",
            help="Rebuild the UTC days from DATE (YYYY-MM-DD) on; default: all history.",
        )
        parser.add_argument(
            "--customer", nargs="+", action="extend", dest="customers", metavar="EXTERNAL_ID", help="Only these customers (external ids)."
        )
        parser.add_argument("--dry-run", action="store_true", help="Count the rows a rebuild would replace and write; change nothing.")
        parser.add_argument("--chunk-size", type=int, default=500, help="Customers per transaction (default 500).")

    def handle(self, *args, since: dt.date | None, customers: list[str] | None, dry_run: bool, chunk_size: int, **options):
        if chunk_size < 1:
            raise CommandError("--chunk-size must be >= 1.")
        started = time.monotonic()
        try:
            pks = rollup_customer_pks(external_ids=customers)
        except Customer.DoesNotExist as exc:
            raise CommandError(str(exc)) from exc
        chunks = progress_chunks(list(rollup_chunks(pks, size=chunk_size)), stdout=self.stdout, desc="rebuild")
        window = f"since {since}" if since else "all history"
        if dry_run:
            stored = expected = 0
            for chunk in chunks:
                now, then = engagement_rollup_rows(since=since, customer_pks=chunk)
                stored, expected = stored + now, expected + then
            self.stdout.write(
                f"rollup_rebuild --dry-run: {len(pks)} customers, {window}: would replace {stored} rollup rows "
                f"with {expected}; nothing written [{time.monotonic() - started:.1f} s]"
            )
            return
        days = engagement_rollup_days(since=since) if since else None
        written = 0
        for chunk in chunks:
            written += engagement_rollup_rebuild(customer_ids=chunk, days=days)
        self.stdout.write(f"rollup_rebuild: {len(pks)} customers, {window}: {written} rows written [{time.monotonic() - started:.1f} s]")
