"""The churn model page: every trained version's holdout metrics beside the
rules', the calibration chart, the features that matter most, the observed
effects of the suggested actions, and which version serves churn risk.

It replaces the changelist of :class:`~enrichment.churn.models.ChurnModel`
(read-only: versions are written by ``churn_train`` and the weekly task).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse

from enrichment.admin.charts import calibration_chart
from enrichment.admin.stored import ReadOnlyAdmin
from enrichment.churn.models import ChurnModel
from enrichment.churn.selectors import churn_models_list
from enrichment.churn.serving import serving_version


def _row(model: ChurnModel) -> dict[str, Any]:
    metrics = model.metrics or {}
    return {
        "model": model,
        "m": metrics.get("model", {}),
        "r": metrics.get("rules", {}),
        "gb_auc": metrics.get("gradient_boosting_holdout_auc"),
        "window": model.training_window or {},
        "serves": model.active and model.beats_rules,
    }


def churn_page_data(*, limit: int = 20) -> dict[str, Any]:
    """The page's data: the latest versions (one query) and the detail of the
    active one (else the latest)."""
    models = churn_models_list(limit=limit)
    rows = [_row(m) for m in models]
    shown = next((r for r in rows if r["model"].active), rows[0] if rows else None)
    serving = next((r["model"] for r in rows if r["serves"]), None)
    detail = None
    if shown is not None:
        detail = {
            **shown,
            "chart": calibration_chart({"model": shown["m"].get("calibration", []), "rules": shown["r"].get("calibration", [])}),
            "features": shown["model"].feature_importance[:10],
            "actions": shown["model"].action_effects,
        }
    return {"rows": rows, "detail": detail, "serving": serving, "process_serves": serving_version()}


@admin.register(ChurnModel)
class ChurnModelAdmin(ReadOnlyAdmin):
    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> TemplateResponse:
        if not self.has_view_permission(request):
            return super().changelist_view(request, extra_context)  # Django's own 403
        context = {
            **self.admin_site.each_context(request),
            "title": "Churn models",
            "subtitle": None,
            "opts": self.opts,
            "has_view_permission": True,
            **churn_page_data(),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "enrichment/admin/churn_models.html", context)
