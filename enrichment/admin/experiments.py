"""Context experiments in the admin: define them, and read each one's results
(the same numbers as ``GET /api/v1/experiments/{name}/results/``) with a chart
of the primary outcome per strategy and its interval."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin

from enrichment.experiments.models import Experiment
from enrichment.experiments.results import WORDS, experiment_results, results_payload
from enrichment.experiments.services import experiment_validate
from enrichment.experiments.strategies import strategies


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    y: float
    x0: float
    width: float
    low_x: float
    high_x: float
    value: str
    n: int


def results_chart(payload: dict[str, Any], *, width: int = 520, row: int = 34) -> dict[str, Any] | None:
    """Horizontal bars of the primary outcome per strategy with their 95% interval."""
    metric = payload["primary_metric"]
    rows = [(arm["strategy"], arm["metrics"][metric]) for arm in payload["arms"]]
    values = [v for _, m in rows for v in (m["value"], m["high"]) if v is not None]
    if not values:
        return None
    top = max(values) * 1.1 or 1.0
    left, plot = 120, width - 120 - 60
    percent = metric in ("resolved", "reopened", "escalated")

    def x(value: float) -> float:
        return round(left + value / top * plot, 1)

    bars = [
        Bar(name, i * row + 6, left, x(m["value"]) - left, x(m["low"]), x(m["high"]),
            f"{m['value'] * 100:.1f}%" if percent else f"{m['value']:.2f}", m["n"])
        for i, (name, m) in enumerate(rows)
        if m["value"] is not None
    ]  # fmt: skip
    return {"width": width, "height": len(rows) * row + 10, "bars": bars, "title": WORDS[metric][1]}


class ExperimentForm(forms.ModelForm):
    class Meta:
        model = Experiment
        fields = ("name", "description", "arms", "unit", "primary_metric", "min_sample_per_arm", "starts_at", "ends_at")

    def clean(self):
        cleaned = super().clean()
        try:
            experiment_validate(Experiment(arms=cleaned.get("arms")))
        except ValueError as exc:
            raise forms.ValidationError({"arms": str(exc)}) from exc
        return cleaned


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    form = ExperimentForm
    list_display = ("name", "unit", "primary_metric", "starts_at", "ends_at")
    search_fields = ("name",)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        experiment = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if experiment is not None:
            payload = results_payload(experiment_results(experiment=experiment))
            extra["results"] = payload
            extra["chart"] = results_chart(payload)
            extra["strategies"] = strategies()
        return super().change_view(request, object_id, form_url, extra_context=extra)
