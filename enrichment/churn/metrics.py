"""How well a churn score predicted who canceled: the backtest's measures.

``roc_auc`` (ranking: 0.5 is chance), ``auc_se`` (Hanley and McNeil's
standard error), ``precision_top_decile`` (share of churners among the 10 %
scored highest), ``brier`` (mean squared error of the probability: only
meaningful for a probability; the rules' churn risk is a score, not one) and
a ``calibration`` table (ten equal-width bins of the score: rows, mean score,
observed churn rate).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score


def auc_standard_error(auc: float, positives: int, negatives: int) -> float:
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    variance = (auc * (1 - auc) + (positives - 1) * (q1 - auc * auc) + (negatives - 1) * (q2 - auc * auc)) / (positives * negatives)
    return math.sqrt(max(variance, 0.0))


def calibration_table(scores: np.ndarray, labels: np.ndarray, *, bins: int = 10) -> list[dict[str, Any]]:
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(scores, edges[1:-1]), 0, bins - 1)
    table = []
    for b in range(bins):
        mask = index == b
        n = int(mask.sum())
        if n:
            table.append(
                {
                    "low": round(float(edges[b]), 2),
                    "high": round(float(edges[b + 1]), 2),
                    "n": n,
                    "mean_score": round(float(scores[mask].mean()), 4),
                    "observed": round(float(labels[mask].mean()), 4),
                }
            )
    return table


def evaluate(scores: Sequence[float] | np.ndarray, labels: Sequence[int] | np.ndarray) -> dict[str, Any]:
    """The measures of ``scores`` (0..1, higher: more likely to churn) against ``labels`` (1: churned)."""
    s, y = np.asarray(scores, dtype=float), np.asarray(labels, dtype=int)
    positives, n = int(y.sum()), len(y)
    result: dict[str, Any] = {"n": n, "positives": positives, "base_rate": round(positives / n, 4) if n else None}
    if not n:
        return result | {"roc_auc": None, "auc_se": None, "precision_top_decile": None, "brier": None, "calibration": []}
    both = 0 < positives < n
    auc = float(roc_auc_score(y, s)) if both else None
    top = max(1, math.ceil(n / 10))
    order = np.argsort(-s, kind="stable")
    return result | {
        "roc_auc": round(auc, 4) if auc is not None else None,
        "auc_se": round(auc_standard_error(auc, positives, n - positives), 4) if auc is not None else None,
        "precision_top_decile": round(float(y[order[:top]].mean()), 4),
        "brier": round(float(np.mean((s - y) ** 2)), 4),
        "calibration": calibration_table(s, y),
    }
