"""python manage.py refresh_contexts [--all | --stale | --customer ID ...] [--dry-run]"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from enrichment.engine.service import get_context_service
from enrichment.history.selectors import customer_external_ids_for_refresh, customer_external_ids_known
from enrichment.history.writer import health_flush
from enrichment.management.progress import Progress, quiet_logs

CHUNK = 200


class Command(BaseCommand):
    help = (
        "Recompute customers' contexts now (both cache tiers and the health rows), a chunk at a time: "
        "--all, --stale (health older than --older-than seconds, default CONTEXT_CACHE_TTL, or never computed) "
        "or --customer ID (repeatable). A progress bar on a terminal, a summary line otherwise."
    )

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--all", action="store_true", help="Every customer.")
        which.add_argument("--stale", action="store_true", help="Customers whose health is older than --older-than, or missing.")
        which.add_argument("--customer", action="append", metavar="ID", help="An external id (repeatable).")
        parser.add_argument("--older-than", type=int, default=None, help="Seconds, for --stale (default CONTEXT_CACHE_TTL).")
        parser.add_argument("--chunk", type=int, default=CHUNK, help=f"Customers per batch (default {CHUNK}).")
        parser.add_argument("--dry-run", action="store_true", help="Say what would be refreshed; change nothing.")
        parser.add_argument("--no-progress", action="store_true", help="Plain lines even on a terminal.")

    def handle(self, *args, **options):
        if options["chunk"] < 1:
            raise CommandError("--chunk must be at least 1.")
        progress = Progress(self.stdout, interactive=False if options["no_progress"] else None)
        ids, selection = self._select(options)
        if options["dry_run"]:
            preview = ", ".join(ids[:10]) + (f", ... ({len(ids) - 10} more)" if len(ids) > 10 else "")
            self.stdout.write(f"Dry run: would refresh {len(ids)} context(s) ({selection}){': ' + preview if ids else ''}.")
            return
        service = get_context_service()
        refreshed = 0
        with quiet_logs(options["verbosity"]), progress.bar("refresh", total=len(ids), unit="ctx") as bar:
            for start in range(0, len(ids), options["chunk"]):
                chunk = ids[start : start + options["chunk"]]
                refreshed += service.refresh_many(chunk, chunk_size=len(chunk))
                bar.update(len(chunk))
            health_flush()
            bar.done(f"{refreshed} of {len(ids)} refreshed")
        skipped = len(ids) - refreshed
        rate = refreshed / progress.elapsed() if progress.elapsed() > 0 else 0.0
        self.stdout.write(
            f"Refreshed {refreshed} context(s) ({selection}) in {progress.elapsed():.1f}s, {rate:.0f}/s"
            + (f"; {skipped} failed or vanished." if skipped else ".")
        )
        if skipped:
            raise CommandError(f"{skipped} context(s) could not be refreshed (see the log).")

    def _select(self, options) -> tuple[list[str], str]:
        if options["customer"]:
            wanted = list(dict.fromkeys(options["customer"]))
            ids = customer_external_ids_known(external_ids=wanted)
            unknown = [external_id for external_id in wanted if external_id not in set(ids)]
            if unknown:
                raise CommandError(f"Unknown customer id(s): {', '.join(unknown)}")
            return ids, "given ids"
        if options["stale"]:
            seconds = options["older_than"] if options["older_than"] is not None else settings.CONTEXT_CACHE_TTL
            cutoff = timezone.now() - dt.timedelta(seconds=seconds)
            return customer_external_ids_for_refresh(stale_before=cutoff), f"stale: health older than {seconds}s or missing"
        return customer_external_ids_for_refresh(), "all"
