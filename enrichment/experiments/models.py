from __future__ import annotations

from django.db import models


class ExperimentUnit(models.TextChoices):
    TICKET = "ticket", "Conversation (ticket)"
    REQUESTER = "requester", "Requester (contact email)"
    ACCOUNT = "account", "Account (customer)"


class ExperimentMetric(models.TextChoices):
    RESOLVED = "resolved", "Resolved"
    CSAT = "csat", "CSAT"
    REOPENED = "reopened", "Reopened"
    ESCALATED = "escalated", "Escalated"
    HANDLE_TIME = "handle_time", "Handle time"
    CONTEXT_RATING = "context_rating", "Agent's rating of the context"


class Experiment(models.Model):
    """Two or more context strategies (``CONTEXT_STRATEGIES``) with traffic
    weights, shown to units of one kind between ``starts_at`` and ``ends_at``.
    ``arms`` is ``[{"strategy": "default", "weight": 1}, ...]``; the first
    arm is the control."""

    name = models.SlugField(max_length=60, unique=True)
    description = models.CharField(max_length=500, blank=True)
    arms = models.JSONField(
        help_text='[{"strategy": "default", "weight": 1}, {"strategy": "budget_800", "weight": 1}]; the first is the control.'
    )
    unit = models.CharField(max_length=10, choices=ExperimentUnit.choices, default=ExperimentUnit.TICKET)
    primary_metric = models.CharField(max_length=20, choices=ExperimentMetric.choices, default=ExperimentMetric.RESOLVED)
    min_sample_per_arm = models.PositiveIntegerField(default=100, help_text="No verdict before every arm has this many units.")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Empty: runs until ended.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__isnull=True) | models.Q(ends_at__gt=models.F("starts_at")), name="experiment_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def control(self) -> str:
        return self.arms[0]["strategy"]
