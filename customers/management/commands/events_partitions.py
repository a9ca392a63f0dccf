"""python manage.py events_partitions [--ensure [--since YYYY-MM]] [--apply-retention [--months N]]

Lists the raw events' monthly partitions (PostgreSQL), makes the missing ones
(``--ensure``: this month and EVENTS_PARTITIONS_AHEAD more, from ``--since``
for a backfill, and the months of rows found in the DEFAULT partition) and
drops those older than the retention (``--apply-retention``). Run
``--ensure --since`` before loading old events, so that they go straight to
their month's partition instead of through the DEFAULT one.
"""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from customers.partitions import events_partitioned, events_partitions, events_partitions_ensure, events_raw_since, events_retention_apply


def _month(value: str) -> dt.date:
    return dt.date.fromisoformat(f"{value}-01" if len(value) == 7 else value).replace(day=1)


class Command(BaseCommand):
    help = "List, make (--ensure) or drop by retention (--apply-retention) the raw events' monthly partitions (PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("--ensure", action="store_true", help="Make the missing partitions (idempotent).")
        parser.add_argument("--since", type=_month, metavar="YYYY-MM", help="With --ensure: from this month on (a backfill).")
        parser.add_argument("--apply-retention", action="store_true", help="Drop the partitions older than the retention.")
        parser.add_argument("--months", type=int, help="With --apply-retention: instead of EVENTS_RETENTION_MONTHS.")

    def handle(self, *args, ensure: bool, since: dt.date | None, apply_retention: bool, months: int | None, **options):
        if not events_partitioned():
            self.stdout.write("events_partitions: the events table is not partitioned here (PostgreSQL only): nothing to do")
            return
        if ensure:
            made = events_partitions_ensure(since=since)
            self.stdout.write(f"created {len(made.created)} partitions, moved {made.moved_rows} rows out of the DEFAULT partition")
            if made.failed:
                raise CommandError(f"not created (tried again on the next run): {', '.join(made.failed)}")
        if apply_retention:
            try:
                applied = events_retention_apply(months=months)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            if applied.cutoff is None:
                self.stdout.write("retention is off (EVENTS_RETENTION_MONTHS=0): nothing dropped")
            else:
                self.stdout.write(f"dropped {len(applied.dropped)} partitions ({applied.rows} events) before {applied.cutoff:%Y-%m-%d}")
                if applied.default_rows_before_cutoff:
                    self.stdout.write(f"warning: {applied.default_rows_before_cutoff} rows before the cutoff in the DEFAULT partition")
        for partition in events_partitions():
            span = f"{partition.start:%Y-%m-%d} .. {partition.end:%Y-%m-%d}" if partition.start else "?"
            span = "DEFAULT" if partition.is_default else span
            self.stdout.write(f"{partition.name:<40} {span:<24} ~{partition.estimated_rows} rows")
        kept = events_raw_since()
        if kept:
            self.stdout.write(f"raw events kept since {kept:%Y-%m-%d} (the daily rollup holds the months before)")
