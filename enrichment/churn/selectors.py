"""Reads of the churn models."""

from __future__ import annotations

from typing import Any

from enrichment.churn.models import ChurnModel

SERVING_FIELDS = ("version", "kind", "features", "params", "beats_rules", "action_effects", "training_window")


def churn_model_active_row() -> dict[str, Any] | None:
    """What serving needs of the active model (``None``: no active model)."""
    return ChurnModel.objects.filter(active=True).values(*SERVING_FIELDS).first()


def churn_models_list(*, limit: int = 20) -> list[ChurnModel]:
    return list(ChurnModel.objects.order_by("-version")[:limit])


def churn_model_latest() -> ChurnModel | None:
    return ChurnModel.objects.order_by("-version").first()
