"""Celery tasks of the churn model (scheduled in ``CELERY_BEAT_SCHEDULE``).

============================  ==================  ==============================================
task                          default schedule    what
============================  ==================  ==============================================
train_churn_model             weekly, Sun 05:00   a new model version from history
                              UTC                 (CHURN_SNAPSHOTS monthly snapshots,
                                                  CHURN_HORIZON_DAYS), made active; it serves
                                                  churn_risk only if it beat the rules
============================  ==================  ==============================================
"""

from __future__ import annotations

import structlog
from celery import shared_task
from django.conf import settings

from enrichment.churn.services import churn_model_train
from enrichment.churn.training import NotEnoughHistory

logger = structlog.get_logger(__name__)


# Training takes minutes at 100,000 accounts (README "Predictive churn"); under CELERY_VISIBILITY_TIMEOUT (3600).
@shared_task(name="enrichment.train_churn_model", ignore_result=True, soft_time_limit=3000, time_limit=3300)
def train_churn_model() -> dict:
    try:
        model = churn_model_train(snapshots=settings.CHURN_SNAPSHOTS, horizon_days=settings.CHURN_HORIZON_DAYS)
    except NotEnoughHistory as exc:
        logger.info("churn_model_not_trained", reason=str(exc))
        return {"trained": False, "reason": str(exc)}
    return {"trained": True, "version": model.version, "beats_rules": model.beats_rules}
