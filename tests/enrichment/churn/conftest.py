from __future__ import annotations

import pytest
from django.utils import timezone

from enrichment.churn.models import ChurnModel
from enrichment.churn.serving import churn_model_forget, churn_model_reload
from enrichment.churn.training import TrainedModel, train
from tests.enrichment.churn.synthetic import synthetic_snapshots


@pytest.fixture(autouse=True)
def no_model_held():
    """Each test starts and ends with no model in this process's memory."""
    churn_model_forget()
    yield
    churn_model_forget()


@pytest.fixture(scope="session")
def trained_on_signal() -> TrainedModel:
    return train(synthetic_snapshots(accounts=400, signal=True), horizon_days=60)


def store(trained: TrainedModel, *, active: bool = True, beats_rules: bool | None = None, effects: list | None = None) -> ChurnModel:
    return ChurnModel.objects.create(
        created_at=timezone.now(),
        kind=trained.kind,
        features=trained.features,
        params=trained.params,
        training_window=trained.training_window,
        metrics=trained.metrics,
        feature_importance=trained.feature_importance,
        action_effects=effects or [],
        beats_rules=trained.beats_rules if beats_rules is None else beats_rules,
        active=active,
    )


@pytest.fixture
def serving_model(db, trained_on_signal) -> ChurnModel:
    """A stored, active model that beat the rules, held in memory."""
    model = store(trained_on_signal, beats_rules=True)
    churn_model_reload()
    return model
