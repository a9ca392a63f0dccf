from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from enrichment.demo.changes import context_history_backfill
from enrichment.demo.history import health_history_backfill, health_history_needed
from enrichment.demo.seed import ADMIN_PASSWORD, ADMIN_USERNAME, demo_seed


class Command(BaseCommand):
    help = (
        "Seed realistic demo data: plans, the fixed accounts customer_123, customer_at_risk and "
        "customer_trial, N generated customers, incidents and an admin/admin superuser. "
        "Idempotent and deterministic for a given --seed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=200, help="Generated customers (default 200).")
        parser.add_argument("--seed", type=int, default=42, help="Random seed (default 42).")

    def handle(self, *args: object, **options: object) -> None:
        customers = options["customers"]
        if not isinstance(customers, int) or customers < 0:
            raise CommandError("--customers must be a non-negative integer.")
        seed = options["seed"]
        started = time.perf_counter()
        result = demo_seed(customers=customers, seed=int(seed))  # type: ignore[arg-type]
        elapsed = time.perf_counter() - started

        write = self.stdout.write
        write(self.style.SUCCESS(f"Demo data seeded in {elapsed:.1f}s (seed={seed}, customers={customers})."))
        write(
            f"  customers created:   {result.customers_created}"
            f" ({result.customers_existing} generated already present)"
        )
        if result.fixed_accounts_created:
            write(f"  fixed accounts:      {', '.join(result.fixed_accounts_created)}")
        write(f"  contacts:            {result.contacts}")
        write(f"  subscriptions:       {result.subscriptions}")
        write(f"  invoices:            {result.invoices}")
        write(f"  tickets:             {result.tickets}")
        write(f"  engagement events:   {result.events} ({result.rollup_rows} daily rollup rows)")
        write(f"  plans created:       {result.plans_created}")
        write(f"  incidents created:   {result.incidents_created}")
        if result.admin_created:
            write(f"Admin login: /admin/  username '{ADMIN_USERNAME}'  password '{ADMIN_PASSWORD}' (created)")
        else:
            write(f"Admin login: /admin/  user '{ADMIN_USERNAME}' already exists (password left unchanged)")
        write("Try: customer_123 (Acme Corp), customer_at_risk (Globex Industries), customer_trial (Initech).")
        self._health_history(seed=int(seed))  # type: ignore[arg-type]
        self._context_history()

    def _health_history(self, *, seed: int) -> None:
        """Compute every context and backfill 12 weeks of health history, once."""
        if not health_history_needed():
            self.stdout.write("  health history:      already present")
            return
        rows = health_history_backfill(seed=seed)
        self.stdout.write(f"  health history:      {rows} daily rows written (contexts computed for every customer)")

    def _context_history(self) -> None:
        """The scripted context snapshots of customer_at_risk, once."""
        written = context_history_backfill()
        message = f"{written} scripted for customer_at_risk" if written else "already present"
        self.stdout.write(f"  context snapshots:   {message}")
