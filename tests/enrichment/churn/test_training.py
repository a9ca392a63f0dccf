"""Fitting and backtesting on snapshots with a known signal, and on pure noise (no database)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from enrichment.churn.training import NotEnoughHistory, train
from tests.enrichment.churn.synthetic import DAYS, synthetic_snapshots, true_probability

HORIZON = 60
# The stated bound: on 2,000 holdout accounts (~13 % churn) the model's ROC AUC
# must come within 0.03 of the true probabilities' own AUC, and above 0.70.
SIGNAL_AUC_FLOOR = 0.70


@pytest.fixture(scope="module")
def signal_rows():
    return synthetic_snapshots(accounts=2000, signal=True)


@pytest.fixture(scope="module")
def signal_model(signal_rows):
    return train(signal_rows, horizon_days=HORIZON)


def test_the_model_recovers_a_known_signal(signal_rows, signal_model):
    trained = signal_model
    holdout = [s for s in signal_rows if s.day == DAYS[-1]]
    oracle = roc_auc_score([int(s.churned) for s in holdout], [true_probability(s.facts) for s in holdout])
    auc = trained.metrics["model"]["roc_auc"]
    assert auc > SIGNAL_AUC_FLOOR
    assert auc >= oracle - 0.03
    weights = {name: weight for name, _label, weight in trained.feature_importance}
    assert weights["errors"] > 0.3 and weights["login_trend"] < -0.2 and weights["annual"] < -0.3
    strongest = {name for name, _label, _w in trained.feature_importance[:4]}
    assert {"errors", "annual"} <= strongest
    assert trained.beats_rules


def test_time_split_trains_only_on_labels_that_ended_before_the_holdout(signal_model):
    trained = signal_model
    window = trained.training_window
    holdout = dt.date.fromisoformat(window["holdout_day"])
    assert holdout == DAYS[-1]
    assert window["train_days"] and all(dt.date.fromisoformat(d) + dt.timedelta(days=HORIZON) <= holdout for d in window["train_days"])
    # Two months of a 60-day horizon overlap the holdout: they are left out.
    assert [d.isoformat() for d in DAYS if d + dt.timedelta(days=HORIZON) <= holdout] == window["train_days"]
    assert window["holdout_rows"] == 2000
    assert trained.metrics["model"]["n"] == trained.metrics["rules"]["n"] == 2000


def test_pure_noise_scores_near_chance_and_does_not_beat_the_rules():
    rows = synthetic_snapshots(accounts=2000, signal=False, seed=11)
    trained = train(rows, horizon_days=HORIZON)
    model = trained.metrics["model"]
    assert abs(model["roc_auc"] - 0.5) < 3 * model["auc_se"]
    assert not trained.beats_rules


def test_the_stored_model_is_plain_json_and_calibrated(signal_model):
    trained = signal_model
    p = trained.params
    assert set(p) == {"C", "coef", "intercept", "mean", "scale", "plans"}
    assert len(p["coef"]) == len(p["mean"]) == len(p["scale"]) == len(trained.features)
    assert all(isinstance(v, float) for v in [*p["coef"], *p["mean"], *p["scale"]])
    calibration = trained.metrics["model"]["calibration"]
    assert sum(row["n"] for row in calibration) == 2000
    # A calibrated probability: in the well-populated bins the observed rate is close to the mean score.
    big = [row for row in calibration if row["n"] >= 200]
    assert big and all(abs(row["observed"] - row["mean_score"]) < 0.06 for row in big)


def test_too_little_history_is_refused():
    rows = synthetic_snapshots(accounts=50, signal=True)
    with pytest.raises(NotEnoughHistory):
        train([s for s in rows if s.day == DAYS[-1]], horizon_days=HORIZON)
    with pytest.raises(NotEnoughHistory):
        train([], horizon_days=HORIZON)


def test_gradient_boosting_is_compared_on_the_same_holdout(signal_model):
    trained = signal_model
    assert 0.5 < trained.metrics["gradient_boosting_holdout_auc"] < 1.0
    validation = trained.metrics["validation"]
    assert set(validation["logistic_regression"]) == {"0.03", "0.1", "0.3", "1.0", "3.0"}
    best = max(validation["logistic_regression"], key=lambda c: validation["logistic_regression"][c])
    assert float(best) == trained.params["C"]
    assert np.isfinite(validation["gradient_boosting"])
