from __future__ import annotations

from django.db import models


class ChurnModel(models.Model):
    """One trained churn model: a version, what it was trained on and how it
    did on its time-split holdout, beside the rule-based churn risk on the
    same holdout (``metrics``: ``{"model": {...}, "rules": {...}}``).

    The fitted model is stored as plain JSON (``params``: the logistic
    regression's coefficients, intercept and the feature scaling), never as a
    pickle, so loading a row runs no code. At most one row is ``active``; it
    serves ``churn_risk`` only when ``beats_rules``."""

    version = models.AutoField(primary_key=True)
    created_at = models.DateTimeField()
    kind = models.CharField(max_length=40, help_text="e.g. logistic_regression")
    features = models.JSONField(default=list, help_text="Feature names, in the order of the coefficients.")
    params = models.JSONField(default=dict, help_text="The fitted model (coefficients, intercept, scaling) and its hyperparameters.")
    training_window = models.JSONField(default=dict, help_text="Snapshot dates of training and holdout, horizon, row counts.")
    metrics = models.JSONField(default=dict, help_text="Holdout metrics of the model and of the rules, candidates compared.")
    feature_importance = models.JSONField(default=list, help_text="[feature, description, weight] by weight.")
    action_effects = models.JSONField(default=list, help_text="Observed retention after each action's outcome (next best action).")
    beats_rules = models.BooleanField(default=False, help_text="Holdout ROC AUC above the rules' on the same rows.")
    active = models.BooleanField(default=False)
    training_seconds = models.FloatField(default=0.0)

    class Meta:
        db_table = "enrichment_churnmodel"
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["active"], condition=models.Q(active=True), name="churn_model_one_active")]

    def __str__(self) -> str:
        return f"churn model v{self.version} ({self.kind}{', active' if self.active else ''})"
