"""Assignment is a pure function of experiment and unit: the same in every
process, balanced to the weights; context ids cannot be forged."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections import Counter

import pytest

from enrichment.experiments.assignment import assign, bucket, context_id_make, context_id_read
from tests.ops.helpers import ROOT

ARMS = [{"strategy": "default", "weight": 1}, {"strategy": "budget_800", "weight": 1}]


def test_the_same_in_another_process():
    keys = [f"ticket:{n}" for n in range(300)]
    here = [assign("exp-a", ARMS, key) for key in keys]
    script = (
        "import json, sys\nfrom enrichment.experiments.assignment import assign\n"
        f"arms = {ARMS!r}\nprint(json.dumps([assign('exp-a', arms, f'ticket:{{n}}') for n in range(300)]))"
    )
    there = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(there.stdout) == here
    assert [assign("exp-a", ARMS, key) for key in keys] == here  # and on every call


@pytest.mark.parametrize(
    "weights", [(1, 1), (1, 3), (2, 1, 1), (0.1, 0.9)], ids=["50-50", "25-75", "50-25-25", "10-90"]
)
def test_balanced_to_the_weights_over_10000_units(weights):
    arms = [{"strategy": f"s{i}", "weight": w} for i, w in enumerate(weights)]
    counts = Counter(assign("balance", arms, f"unit:{n}") for n in range(10_000))
    total = sum(weights)
    for i, w in enumerate(weights):
        p = w / total
        expected, sd = 10_000 * p, math.sqrt(10_000 * p * (1 - p))
        assert abs(counts[f"s{i}"] - expected) < 4 * sd, (counts, expected, sd)


def test_experiments_are_independent_of_each_other():
    same = sum(assign("exp-a", ARMS, f"u{n}") == assign("exp-b", ARMS, f"u{n}") for n in range(10_000))
    assert 4_700 < same < 5_300  # unrelated: about half agree by chance
    assert 0 <= bucket("x", "y") < 1


def test_context_ids_round_trip_and_cannot_be_forged(settings):
    context_id = context_id_make(experiment_id=7, strategy="budget_800", customer_id="customer_123", unit_key="ticket:9")
    served = context_id_read(context_id)
    assert (served.experiment_id, served.strategy, served.customer_id, served.unit_key) == (7, "budget_800", "customer_123", "ticket:9")
    prefix, payload, signature = context_id.split(".")
    assert context_id_read(f"{prefix}.{payload}.{'0' * len(signature)}") is None
    assert context_id_read(f"{prefix}.{payload[:-2]}xx.{signature}") is None
    for junk in ("", "ctx1", "ctx1..", "x" * 500, "ctx1.%%%.abc"):
        assert context_id_read(junk) is None
    settings.SECRET_KEY = "another-deployment"
    assert context_id_read(context_id) is None  # another deployment's ids are not ours
