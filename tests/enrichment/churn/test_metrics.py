"""The backtest's measures against hand-computed values."""

from __future__ import annotations

import math

import numpy as np

from enrichment.churn.metrics import auc_standard_error, calibration_table, evaluate


def test_measures_of_a_small_example():
    scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.02, 0.01]
    labels = [1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0]
    result = evaluate(scores, labels)
    # AUC: for each (churner, stayer) pair, whether the churner scored higher.
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    pairs = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg) / (len(pos) * len(neg))
    assert result["roc_auc"] == round(pairs, 4)
    assert result["brier"] == round(sum((s - y) ** 2 for s, y in zip(scores, labels, strict=True)) / 12, 4)
    assert result["precision_top_decile"] == 0.5  # the top ceil(12 / 10) = 2 scores, 0.9 and 0.8: one churner
    assert (result["n"], result["positives"], result["base_rate"]) == (12, 3, 0.25)


def test_precision_in_the_top_decile():
    scores = np.linspace(1, 0, 100)
    labels = np.zeros(100, dtype=int)
    labels[[0, 3, 7, 50]] = 1
    assert evaluate(scores, labels)["precision_top_decile"] == 0.3


def test_one_class_only_has_no_auc():
    result = evaluate([0.1, 0.2], [0, 0])
    assert result["roc_auc"] is None and result["auc_se"] is None and result["brier"] is not None


def test_calibration_bins_count_every_row():
    scores = np.array([0.05, 0.07, 0.15, 0.95, 1.0])
    labels = np.array([0, 1, 0, 1, 1])
    table = calibration_table(scores, labels)
    assert sum(row["n"] for row in table) == 5
    assert table[0] == {"low": 0.0, "high": 0.1, "n": 2, "mean_score": 0.06, "observed": 0.5}
    assert table[-1]["n"] == 2 and table[-1]["observed"] == 1.0


def test_standard_error_shrinks_with_more_accounts():
    assert auc_standard_error(0.8, 100, 900) < auc_standard_error(0.8, 10, 90)
    assert math.isclose(auc_standard_error(0.5, 2, 2), math.sqrt((0.25 + (0.5 / 1.5 - 0.25) + (0.5 / 1.5 - 0.25)) / 4), rel_tol=1e-9)
