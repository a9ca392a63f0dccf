"""Fitting and backtesting a churn model on snapshots (pure: no database).

**Time split.** The holdout is the latest snapshot date; the model is trained
only on snapshots whose whole label window ended by then (``day + horizon <=
holdout day``), so no training label looks past the holdout's moment. The
regularisation is chosen the same way one step earlier (validation = the
latest training date, fitted on the dates whose window ended by it).

**Candidates.** L2-regularised logistic regressions (``C`` in :data:`C_GRID`)
on standardised features, and gradient boosting as a comparison (on a seeded
sample of at most :data:`GB_MAX_ROWS` training rows). The
logistic regression with the best validation ROC AUC is the model: it stores
as plain JSON and explains each score as signed contributions. Gradient
boosting's validation and holdout AUC are recorded beside it, so the backtest
says when a non-linear model would have ranked better.

**Against the rules.** The rule-based churn risk is scored on the same
holdout rows (:mod:`enrichment.churn.baseline`). The model ``beats_rules``
when its holdout AUC exceeds the rules' by :data:`MIN_AUC_GAIN` and is above
chance with 95 % confidence (``auc - 1.96 se > 0.5``), so noise does not win.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from enrichment.churn.baseline import rules_churn_risk
from enrichment.churn.dataset import Snapshot
from enrichment.churn.features import feature_names, label_of, vectorize
from enrichment.churn.metrics import evaluate

KIND = "logistic_regression"
C_GRID = (0.03, 0.1, 0.3, 1.0, 3.0)
DEFAULT_C = 0.3
MIN_AUC_GAIN = 0.01
GB_MAX_ROWS = 200_000  # gradient boosting is a comparison: fitted on a seeded sample of at most this many rows


class NotEnoughHistory(ValueError):
    """Too few labelled snapshots (or churners) to train and backtest."""


@dataclass(frozen=True)
class TrainedModel:
    kind: str
    features: list[str]
    params: dict[str, Any]
    training_window: dict[str, Any]
    metrics: dict[str, Any]
    feature_importance: list[list[Any]]
    beats_rules: bool


@dataclass(frozen=True)
class _Split:
    x: np.ndarray
    y: np.ndarray
    days: np.ndarray


def _fit_lr(x: np.ndarray, y: np.ndarray, c: float) -> tuple[LogisticRegression, np.ndarray, np.ndarray]:
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=c, max_iter=2000)
    model.fit((x - mean) / scale, y)
    return model, mean, scale


def _lr_scores(fit: tuple[LogisticRegression, np.ndarray, np.ndarray], x: np.ndarray) -> np.ndarray:
    model, mean, scale = fit
    return model.predict_proba((x - mean) / scale)[:, 1]


def _boosting(x: np.ndarray, y: np.ndarray) -> HistGradientBoostingClassifier:
    if len(y) > GB_MAX_ROWS:
        keep = np.random.default_rng(0).choice(len(y), GB_MAX_ROWS, replace=False)
        x, y = x[keep], y[keep]
    return HistGradientBoostingClassifier(max_iter=150, learning_rate=0.1, random_state=0).fit(x, y)


def _auc(y: np.ndarray, s: np.ndarray) -> float | None:
    return float(roc_auc_score(y, s)) if 0 < y.sum() < len(y) else None


def _choose_c(data: _Split, horizon: dt.timedelta) -> tuple[float, dict[str, Any]]:
    """The ``C`` with the best validation AUC, and every candidate's validation AUC."""
    dates = sorted(set(data.days.tolist()))
    val_day = dates[-1] if dates else None
    fit_mask = np.array([d + horizon <= val_day for d in data.days]) if val_day else np.zeros(0, bool)
    val_mask = data.days == val_day
    if val_day is None or len(set(data.y[fit_mask].tolist())) < 2 or len(set(data.y[val_mask].tolist())) < 2:
        return DEFAULT_C, {"validation_day": None, "note": "too little history to validate; default C"}
    xf, yf, xv, yv = data.x[fit_mask], data.y[fit_mask], data.x[val_mask], data.y[val_mask]
    aucs = {str(c): _auc(yv, _lr_scores(_fit_lr(xf, yf, c), xv)) for c in C_GRID}
    gb = _boosting(xf, yf)
    best = max(C_GRID, key=lambda c: aucs[str(c)] or 0.0)
    gb_auc = _auc(yv, gb.predict_proba(xv)[:, 1])
    return best, {"validation_day": val_day.isoformat(), "logistic_regression": aucs, "gradient_boosting": gb_auc}


def train(snapshots: Sequence[Snapshot], *, horizon_days: int) -> TrainedModel:
    """Fit on the older snapshots, backtest on the latest: see the module docstring."""
    labelled = [s for s in snapshots if s.churned is not None]
    if not labelled:
        raise NotEnoughHistory("no snapshot with an observed label")
    horizon = dt.timedelta(days=horizon_days)
    holdout_day = max(s.day for s in labelled)
    train_rows = [s for s in labelled if s.day + horizon <= holdout_day]
    test_rows = [s for s in labelled if s.day == holdout_day]
    plans = sorted({s.facts.plan for s in train_rows if s.facts.plan})
    data, test = _matrix(train_rows, plans), _matrix(test_rows, plans)
    if len(set(data.y.tolist())) < 2:
        raise NotEnoughHistory(f"{len(train_rows)} training rows before {holdout_day}, need churners and stayers")
    c, validation = _choose_c(data, horizon)
    fit = _fit_lr(data.x, data.y, c)
    model_scores = _lr_scores(fit, test.x)
    rules_scores = np.array([rules_churn_risk(s.facts, day=s.day) for s in test_rows])
    gb = _boosting(data.x, data.y)
    metrics = {
        "model": evaluate(model_scores, test.y),
        "rules": evaluate(rules_scores, test.y),
        "gradient_boosting_holdout_auc": _auc(test.y, gb.predict_proba(test.x)[:, 1]) if len(test.y) else None,
        "validation": validation,
    }
    names = feature_names(plans)
    lr, mean, scale = fit
    coef = lr.coef_[0]
    return TrainedModel(
        kind=KIND,
        features=names,
        params={
            "C": c,
            "coef": coef.round(6).tolist(),
            "intercept": round(float(lr.intercept_[0]), 6),
            "mean": mean.round(6).tolist(),
            "scale": scale.round(6).tolist(),
            "plans": plans,
        },
        training_window={
            "horizon_days": horizon_days,
            "train_days": sorted({s.day.isoformat() for s in train_rows}),
            "holdout_day": holdout_day.isoformat(),
            "train_rows": len(train_rows),
            "train_churned": int(data.y.sum()),
            "holdout_rows": len(test_rows),
        },
        metrics=metrics,
        feature_importance=_importance(coef, names),
        beats_rules=beats(metrics["model"], metrics["rules"]),
    )


def _importance(coef: np.ndarray, names: list[str]) -> list[list[Any]]:
    """[feature, words, coefficient] by weight: the change in log-odds per standard deviation."""
    ranked = sorted(zip(coef.tolist(), names, strict=True), key=lambda pair: -abs(pair[0]))
    return [[name, label_of(name), round(w, 4)] for w, name in ranked]


def beats(model: dict[str, Any], rules: dict[str, Any]) -> bool:
    auc, se = model.get("roc_auc"), model.get("auc_se")
    if auc is None or se is None:
        return False
    return auc - 1.96 * se > 0.5 and auc >= (rules.get("roc_auc") or 0.5) + MIN_AUC_GAIN


def _matrix(rows: Sequence[Snapshot], plans: list[str]) -> _Split:
    width = len(feature_names(plans))
    x = np.array([vectorize(s.facts, plans) for s in rows], dtype=float).reshape(len(rows), width)
    return _Split(x=x, y=np.array([int(bool(s.churned)) for s in rows], dtype=int), days=np.array([s.day for s in rows], dtype=object))
