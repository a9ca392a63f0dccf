"""The churn model page: versions against the rules, calibration chart, features, who serves."""

from __future__ import annotations

import re

import pytest

from enrichment.admin.charts import calibration_chart
from enrichment.churn.serving import churn_model_forget, churn_model_reload
from enrichment.churn.training import TrainedModel, train
from tests.enrichment.churn.conftest import store
from tests.enrichment.churn.synthetic import synthetic_snapshots

PAGE = "/admin/enrichment_churn/churnmodel/"


@pytest.fixture(scope="module")
def trained() -> TrainedModel:
    return train(synthetic_snapshots(accounts=400, signal=True), horizon_days=60)


@pytest.fixture(autouse=True)
def no_model_held():
    churn_model_forget()
    yield
    churn_model_forget()


def test_without_models_the_page_says_the_rules_serve(admin_client):
    html = admin_client.get(PAGE).content.decode()
    assert "Serving churn risk: the rules" in html and "No model trained yet." in html


def test_each_version_beside_the_rules_and_the_serving_one_in_detail(admin_client, trained):
    old = store(trained, active=False, beats_rules=False)
    new = store(trained, beats_rules=True)
    churn_model_reload()
    response = admin_client.get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert f"Serving churn risk: model v{new.version}</strong>" in html
    assert f"This process: model:{new.version}" in html
    rows = re.findall(r'<tr data-version="(\d+)">(.*?)</tr>', html, flags=re.S)
    assert [int(v) for v, _ in rows] == [new.version, old.version]
    first = rows[0][1]
    assert str(new.metrics["model"]["roc_auc"]) in first and str(new.metrics["rules"]["roc_auc"]) in first and "serving" in first
    assert '<svg id="cc-calibration"' in html
    assert html.count("<circle") == sum(len(new.metrics[k]["calibration"]) for k in ("model", "rules"))
    top_label = new.feature_importance[0][1]
    assert top_label in html[html.index('id="cc-churn-features"') :]


def test_staff_without_permission_cannot_see_it(client, django_user_model):
    user = django_user_model.objects.create_user("staff", password="x", is_staff=True)
    client.force_login(user)
    assert client.get(PAGE).status_code == 403


def test_calibration_geometry():
    chart = calibration_chart({"model": [{"mean_score": 0.5, "observed": 0.25, "n": 10}]}, size=200, pad=0)
    (series,) = chart.series
    assert chart.diagonal == "0.0,200.0 200.0,0.0"
    assert (series.marks[0].x, series.marks[0].y, series.marks[0].label) == (100.0, 150.0, "n=10, score 0.50")
