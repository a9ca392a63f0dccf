"""Writes of the churn models: train a new version, activate one."""

from __future__ import annotations

import datetime as dt
import time

import structlog
from django.db import transaction
from django.utils import timezone

from enrichment.churn.dataset import snapshot_dates, snapshots_build
from enrichment.churn.models import ChurnModel
from enrichment.churn.outcomes import action_effects
from enrichment.churn.serving import churn_model_reload
from enrichment.churn.training import train

logger = structlog.get_logger(__name__)


@transaction.atomic
def churn_model_train(
    *,
    today: dt.date | None = None,
    snapshots: int = 12,
    horizon_days: int = 90,
    activate: bool = True,
    id_prefix: str = "",
) -> ChurnModel:
    """Build the training set from history, fit and backtest a model, store it
    as a new version and (``activate``) make it the active one. It serves
    ``churn_risk`` only when it beat the rules on its holdout. ``id_prefix``:
    learn from the accounts whose external id starts with it only (the demo's
    history accounts; the served model then scores every live account). Raises
    :class:`~enrichment.churn.training.NotEnoughHistory` when history is too short."""
    today = today or timezone.now().date()
    started = time.perf_counter()
    days = snapshot_dates(today=today, count=snapshots, horizon_days=horizon_days)
    rows = snapshots_build(days=days, horizon_days=horizon_days, today=today, id_prefix=id_prefix)
    built = time.perf_counter() - started
    trained = train(rows, horizon_days=horizon_days)
    elapsed = time.perf_counter() - started
    model = ChurnModel.objects.create(
        created_at=timezone.now(),
        kind=trained.kind,
        features=trained.features,
        params=trained.params,
        training_window=trained.training_window | {"build_seconds": round(built, 3), "id_prefix": id_prefix},
        metrics=trained.metrics,
        feature_importance=trained.feature_importance,
        action_effects=action_effects(rows),
        beats_rules=trained.beats_rules,
        training_seconds=round(elapsed, 3),
    )
    if activate:
        churn_model_activate(version=model.version)
        model.active = True
    logger.info(
        "churn_model_trained",
        version=model.version,
        beats_rules=model.beats_rules,
        model_auc=trained.metrics["model"]["roc_auc"],
        rules_auc=trained.metrics["rules"]["roc_auc"],
        rows=len(rows),
        seconds=model.training_seconds,
    )
    return model


@transaction.atomic
def churn_model_activate(*, version: int) -> None:
    """Make ``version`` the active model (this process holds it once the
    transaction commits; other processes within ``CHURN_MODEL_REFRESH_SECONDS``)."""
    ChurnModel.objects.filter(active=True).exclude(version=version).update(active=False)
    ChurnModel.objects.filter(version=version).update(active=True)
    transaction.on_commit(churn_model_reload)
