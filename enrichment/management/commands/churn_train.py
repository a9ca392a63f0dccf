"""python manage.py churn_train [--snapshots N] [--horizon-days D] [--no-activate]"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from enrichment.churn.models import ChurnModel
from enrichment.churn.services import churn_model_train
from enrichment.churn.training import NotEnoughHistory


class Command(BaseCommand):
    help = (
        "Train a churn model from the account base's history (monthly point-in-time snapshots, label "
        "'canceled within the horizon'), backtest it against the rules on the latest snapshot and store it "
        "as a new version. Made active unless --no-activate; it serves churn_risk only if it beat the rules."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--snapshots", type=int, default=settings.CHURN_SNAPSHOTS, help="Monthly snapshot dates (default %(default)s).")
        parser.add_argument("--horizon-days", type=int, default=settings.CHURN_HORIZON_DAYS, help="Label horizon (default %(default)s).")
        parser.add_argument("--no-activate", action="store_true", help="Store the version without making it active.")
        parser.add_argument("--id-prefix", default="", help="Learn only from accounts whose external id starts with this.")

    def handle(self, *args: object, **options: object) -> None:
        snapshots, horizon = options["snapshots"], options["horizon_days"]
        if not isinstance(snapshots, int) or snapshots < 2 or not isinstance(horizon, int) or horizon < 1:
            raise CommandError("--snapshots must be >= 2 and --horizon-days >= 1.")
        try:
            model = churn_model_train(
                snapshots=snapshots, horizon_days=horizon, activate=not options["no_activate"], id_prefix=str(options["id_prefix"])
            )
        except NotEnoughHistory as exc:
            raise CommandError(f"Not enough history to train: {exc}") from exc
        self.stdout.write(summary(model))


def summary(model: ChurnModel) -> str:
    m, r, w = model.metrics["model"], model.metrics["rules"], model.training_window
    serving = "serves churn_risk" if model.beats_rules and model.active else ("rules keep serving" if model.active else "not active")
    return (
        f"Churn model v{model.version} ({model.kind}): holdout {w['holdout_day']} ({w['holdout_rows']} accounts, "
        f"{m['positives']} canceled), ROC AUC model {m['roc_auc']} vs rules {r['roc_auc']}, "
        f"precision in the top decile {m['precision_top_decile']} vs {r['precision_top_decile']}, Brier {m['brier']}; "
        f"trained on {w['train_rows']} snapshots in {model.training_seconds:.1f}s; {serving}."
    )
