"""The statistics on fixed data, checked against intervals computed by hand,
and the always-valid test's error rate when people look every day."""

from __future__ import annotations

import math
import random

import pytest

from enrichment.experiments.stats import difference, estimate


def test_wilson_interval_of_8_out_of_10():
    e = estimate([1.0] * 8 + [0.0] * 2)
    assert (e.n, e.mean) == (10, 0.8)
    assert e.low == pytest.approx(0.4902, abs=1e-4) and e.high == pytest.approx(0.9433, abs=1e-4)  # textbook Wilson 95%


def test_normal_interval_of_a_mean():
    e = estimate([1.0, 2.0, 3.0, 4.0, 5.0])  # mean 3, sd 1.5811, se 0.7071
    assert e.mean == 3.0 and e.variance == pytest.approx(2.5)
    assert e.low == pytest.approx(3 - 1.95996 * math.sqrt(2.5 / 5), abs=1e-4) == pytest.approx(1.6141, abs=1e-4)
    assert e.high == pytest.approx(4.3859, abs=1e-4)
    assert estimate([]).mean is None


def test_difference_intervals_by_hand():
    control = estimate([1.0] * 30 + [0.0] * 70)  # 0.30
    arm = estimate([1.0] * 45 + [0.0] * 55)  # 0.45
    d = difference(control, arm)
    v = 0.3 * 0.7 / 100 + 0.45 * 0.55 / 100  # 0.004575
    assert d.delta == pytest.approx(0.15)
    half_fixed = 1.95996 * math.sqrt(v)
    assert (d.low, d.high) == (pytest.approx(0.15 - half_fixed, abs=1e-6), pytest.approx(0.15 + half_fixed, abs=1e-6))
    tau2 = (0.21 + 0.2475) / 2 * 0.04
    half = math.sqrt(v * (v + tau2) / tau2 * math.log((v + tau2) / (v * 0.05**2)))
    assert d.always_low == pytest.approx(0.15 - half) and d.always_high == pytest.approx(0.15 + half)
    assert d.always_high - d.always_low > d.high - d.low  # the price of looking whenever you like


def test_looking_every_day_at_equal_strategies_rarely_calls_a_winner():
    """300 simulated experiments of 30 days, 40 conversations a day per
    strategy, both resolving 30%: called at any daily look after 100 each."""
    rng = random.Random(7)
    called_always = called_naive = 0
    for _ in range(300):
        a: list[float] = []
        b: list[float] = []
        naive = always = False
        for _day in range(30):
            a += [float(rng.random() < 0.3) for _ in range(40)]
            b += [float(rng.random() < 0.3) for _ in range(40)]
            if len(a) < 100:
                continue
            d = difference(estimate(a), estimate(b))
            always |= d.always_low > 0 or d.always_high < 0
            naive |= d.low > 0 or d.high < 0
        called_always += always
        called_naive += naive
    assert called_always / 300 <= 0.06, called_always
    assert called_naive / 300 > 0.10, called_naive  # peeking at the fixed-sample interval would mislead
