"""python manage.py seed_demo [--customers N] [--seed S] [--i-know-this-is-production]"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from enrichment.churn.services import churn_model_train
from enrichment.churn.training import NotEnoughHistory
from enrichment.demo.changes import context_history_backfill
from enrichment.demo.churn_history import HISTORY_PREFIX, history_seed
from enrichment.demo.history import health_history_backfill, health_history_needed
from enrichment.demo.seed import ADMIN_PASSWORD, ADMIN_USERNAME, DemoSeedResult, demo_seed, demo_seed_plan
from enrichment.management.progress import Progress, quiet_logs


class Command(BaseCommand):
    help = (
        "Seed realistic demo data: plans, the fixed accounts customer_123, customer_at_risk and "
        "customer_trial, N generated customers, accounts with a year of churn history (DEMO_CHURN_HISTORY_ACCOUNTS) and "
        "a churn model trained on them, incidents, 12 weeks of health history and an admin/admin "
        "superuser (never under production settings). Idempotent and deterministic for a given --seed. "
        "Progress per phase (a bar on a terminal), the total time at the end."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=200, help="Generated customers (default 200).")
        parser.add_argument("--seed", type=int, default=42, help="Random seed (default 42).")
        parser.add_argument(
            "--i-know-this-is-production",
            action="store_true",
            dest="production_ok",
            help="Run under production settings anyway (no admin/admin user is created there).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Say what would be created; change nothing.")
        parser.add_argument("--no-progress", action="store_true", help="Plain lines even on a terminal.")

    def handle(self, *args: object, **options: object) -> None:
        customers = options["customers"]
        if not isinstance(customers, int) or customers < 0:
            raise CommandError("--customers must be a non-negative integer.")
        production = bool(getattr(settings, "IS_PRODUCTION", False))
        if production and not options["production_ok"]:
            raise CommandError(
                "Refusing to seed demo data under production settings "
                f"({settings.SETTINGS_MODULE}). Pass --i-know-this-is-production if you really mean it "
                "(no admin/admin user is created there)."
            )
        seed = int(options["seed"])  # type: ignore[arg-type]
        if options["dry_run"]:
            plan = demo_seed_plan(customers=customers, create_admin=not production)
            fixed = ", ".join(plan.fixed_accounts) or "none (all present)"
            self.stdout.write(
                f"Dry run: would create {plan.generated} generated customers ({plan.generated_existing} already present), "
                f"fixed accounts: {fixed}; admin user: {'admin/admin' if plan.admin else 'no'}."
            )
            return
        progress = Progress(self.stdout, interactive=False if options["no_progress"] else None)
        with quiet_logs(int(options.get("verbosity", 1))):  # per-customer INFO lines only with -v 2
            result = demo_seed(customers=customers, seed=seed, create_admin=not production, phase=progress.phase)
            with progress.phase("churn history") as step:
                counts = history_seed(accounts=settings.DEMO_CHURN_HISTORY_ACCOUNTS, seed=seed)
                step.done(f"{counts['customers']} accounts with a year of history, {counts['events']} events")
            with progress.phase("churn model") as step:
                step.done(self._churn_model())
            with progress.phase("health history") as step:
                step.done(self._health_history(seed=seed))
            with progress.phase("context snapshots") as step:
                written = context_history_backfill()
                step.done(f"{written} scripted for customer_at_risk" if written else "already present")
        self._summary(result, seed=seed, customers=customers, production=production, elapsed=progress.elapsed())

    @staticmethod
    def _churn_model() -> str:
        """Train a churn model on the demo's history accounts (a new version each run). The
        generated customers are left out of training: their events start 120 days ago, so
        their earlier snapshots would look like silent accounts that never leave."""
        try:
            model = churn_model_train(
                snapshots=settings.CHURN_SNAPSHOTS, horizon_days=settings.CHURN_HORIZON_DAYS, id_prefix=HISTORY_PREFIX
            )
        except NotEnoughHistory as exc:
            return f"not trained: {exc}"
        m, r = model.metrics["model"], model.metrics["rules"]
        serving = "serves churn risk" if model.beats_rules else "the rules keep serving"
        return f"v{model.version}: holdout ROC AUC {m['roc_auc']} vs rules {r['roc_auc']}; {serving}"

    @staticmethod
    def _health_history(*, seed: int) -> str:
        """Compute every context and backfill 12 weeks of health history, once."""
        if not health_history_needed():
            return "already present"
        return f"{health_history_backfill(seed=seed)} daily rows written (contexts computed for every customer)"

    def _summary(self, result: DemoSeedResult, *, seed: int, customers: int, production: bool, elapsed: float) -> None:
        write = self.stdout.write
        write(f"Customers: {result.customers_created} created, {result.customers_existing} generated already present.")
        if result.fixed_accounts_created:
            write(f"Fixed accounts created: {', '.join(result.fixed_accounts_created)}.")
        write("Try: customer_123 (Acme Corp), customer_at_risk (Globex Industries), customer_trial (Initech).")
        if production:
            write("Admin login: none created under production settings (use `manage.py createsuperuser`).")
        elif result.admin_created:
            write(f"Admin login: /admin/  username '{ADMIN_USERNAME}'  password '{ADMIN_PASSWORD}' (created)")
        else:
            write(f"Admin login: /admin/  user '{ADMIN_USERNAME}' already exists (password left unchanged)")
        write(self.style.SUCCESS(f"Demo data seeded in {elapsed:.1f}s in total (seed={seed}, customers={customers})."))
