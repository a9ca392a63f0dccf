"""The statistics of an experiment's results, pure functions.

- An arm's rate (yes/no outcomes) gets a Wilson 95% interval; a mean (CSAT,
  handle time) a normal 95% interval from the sample standard deviation.
- The difference of an arm against the control gets two intervals: the usual
  fixed-sample 95% interval, shown for reading, and an **always-valid** 95%
  interval (the mixture sequential probability ratio test of Johari, Pekelis
  and Walsh, "Always valid inference", 2017, with a normal mixing
  distribution), which stays valid however often people look. Only the
  always-valid one decides the verdict: a team looking every day still calls
  a winner among equal strategies in at most about 5% of experiments.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Z95 = 1.959963984540054
ALPHA = 0.05


@dataclass(frozen=True, slots=True)
class Estimate:
    n: int
    mean: float | None
    low: float | None
    high: float | None
    variance: float | None  # of one observation


def _variance(values: Sequence[float], mean: float) -> float:
    if len(values) < 2:
        return 0.0
    return sum((v - mean) ** 2 for v in values) / (len(values) - 1)


def is_binary(values: Sequence[float]) -> bool:
    return all(v in (0.0, 1.0) for v in values)


def estimate(values: Sequence[float]) -> Estimate:
    """The mean of ``values`` with its 95% interval (Wilson for 0/1 values)."""
    n = len(values)
    if n == 0:
        return Estimate(0, None, None, None, None)
    mean = sum(values) / n
    variance = _variance(values, mean)
    if is_binary(values):
        centre = (mean + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
        half = Z95 * math.sqrt(mean * (1 - mean) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
        return Estimate(n, mean, centre - half, centre + half, mean * (1 - mean))
    half = Z95 * math.sqrt(variance / n)
    return Estimate(n, mean, mean - half, mean + half, variance)


@dataclass(frozen=True, slots=True)
class Difference:
    delta: float
    low: float  # fixed-sample 95%
    high: float
    always_low: float  # always-valid 95%
    always_high: float


def mixing_variance(control: Estimate, arm: Estimate) -> float:
    """τ² of the mixture: the effect sizes the test is tuned to find, about a
    fifth of a standard deviation of one observation."""
    pooled = ((control.variance or 0.0) + (arm.variance or 0.0)) / 2
    return max(pooled * 0.04, 1e-12)


def difference(control: Estimate, arm: Estimate) -> Difference | None:
    """``arm - control`` with both intervals; ``None`` when either side is empty."""
    if not control.n or not arm.n or control.mean is None or arm.mean is None:
        return None
    delta = arm.mean - control.mean
    v = (control.variance or 0.0) / control.n + (arm.variance or 0.0) / arm.n
    if v <= 0:
        return Difference(delta, delta, delta, delta, delta)
    half = Z95 * math.sqrt(v)
    tau2 = mixing_variance(control, arm)
    always = math.sqrt(v * (v + tau2) / tau2 * math.log((v + tau2) / (v * ALPHA**2)))
    return Difference(delta, delta - half, delta + half, delta - always, delta + always)
