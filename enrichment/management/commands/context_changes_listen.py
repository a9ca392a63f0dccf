"""``python manage.py context_changes_listen [--once]``: invalidate contexts as
the database records changes, whoever wrote them (see
:mod:`enrichment.engine.changes`). One per deployment is enough; more share
the work. ``--once`` applies what is pending and exits (cron, scripts)."""

from __future__ import annotations

import signal

from django.core.management.base import BaseCommand

from enrichment.engine.changes import ChangeListener, context_changes_apply


class Command(BaseCommand):
    help = "Invalidate cached contexts whenever the database records a change to a customer's data."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Apply the pending changes and exit.")
        parser.add_argument("--poll", type=float, default=None, help="Seconds between polls (default CONTEXT_CHANGES_POLL_SECONDS).")

    def handle(self, *args, once: bool, poll: float | None, **options):
        if once:
            applied = context_changes_apply()
            self.stdout.write(f"Invalidated {applied} customer context(s).")
            return
        listener = ChangeListener(poll_seconds=poll)
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: listener.stop())
        listener.run()
