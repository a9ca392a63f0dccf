"""``manage.py churn_train`` and the weekly task, on history from the demo generator."""

from __future__ import annotations

from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from enrichment.churn.models import ChurnModel
from enrichment.churn.tasks import train_churn_model
from enrichment.demo.churn_history import history_seed


def test_without_history_the_command_refuses_and_the_task_says_why(db):
    with pytest.raises(CommandError, match="Not enough history"):
        call_command("churn_train", stdout=StringIO())
    assert train_churn_model() == {"trained": False, "reason": "no snapshot with an observed label"}
    assert not ChurnModel.objects.exists()


def test_the_command_stores_a_version_and_reports_it_against_the_rules(db):
    history_seed(accounts=120, months=8, seed=3)
    out = StringIO()
    call_command("churn_train", snapshots=5, horizon_days=60, no_activate=True, stdout=out)
    model = ChurnModel.objects.get()
    assert not model.active
    m, r = model.metrics["model"], model.metrics["rules"]
    assert f"Churn model v{model.version} (logistic_regression)" in out.getvalue()
    assert f"ROC AUC model {m['roc_auc']} vs rules {r['roc_auc']}" in out.getvalue() and "not active" in out.getvalue()
    assert m["n"] == r["n"] == model.training_window["holdout_rows"] > 0
    assert len(model.training_window["train_days"]) == 3  # 5 monthly snapshots, 60 days: two overlap the holdout


def test_the_weekly_task_trains_and_activates(db):
    history_seed(accounts=120, months=8, seed=3)
    result = train_churn_model()
    model = ChurnModel.objects.get(active=True)
    assert result == {"trained": True, "version": model.version, "beats_rules": model.beats_rules}
    assert len(model.training_window["train_days"]) + 3 == settings.CHURN_SNAPSHOTS  # 90 days: three months overlap
