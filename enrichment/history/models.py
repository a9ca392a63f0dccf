from __future__ import annotations

from django.db import models
from django.db.models.functions import Now

from customers.models import Customer


class CustomerHealth(models.Model):
    """The latest computed health of a customer, denormalised for the admin's
    list and dashboard (100,000 rows sorted and filtered without enrichment).
    Written by the context service whenever it computes a context."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, primary_key=True, related_name="health")
    health_score = models.PositiveSmallIntegerField()
    health_label = models.CharField(max_length=20)
    churn_risk = models.FloatField(null=True, blank=True, help_text="Null when the account has churned (canceled).")
    churn_risk_level = models.CharField(max_length=10)
    red_flags = models.PositiveSmallIntegerField(default=0)
    yellow_flags = models.PositiveSmallIntegerField(default=0)
    green_flags = models.PositiveSmallIntegerField(default=0)
    flag_codes = models.JSONField(default=list, blank=True)
    # The account's first red flag message, else its first yellow one (the
    # change list shows it beside the badge; see ``top_reason``).
    top_reason = models.CharField(max_length=200, blank=True, default="")
    plan = models.CharField(max_length=50, blank=True)
    mrr = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    renewal_date = models.DateField(null=True, blank=True)
    computed_at = models.DateTimeField()
    # Hash of the context's substance (enrichment.history.snapshots): a new
    # ContextSnapshot is written only when it changes, without reading first.
    content_hash = models.CharField(max_length=40, blank=True, default="")

    class Meta:
        db_table = "enrichment_customerhealth"
        verbose_name_plural = "customer health"
        indexes = [
            models.Index(fields=["health_score"], name="health_score_idx"),
            models.Index(fields=["health_label"], name="health_label_idx"),
            models.Index(fields=["churn_risk_level"], name="health_churn_level_idx"),
            models.Index(fields=["renewal_date"], name="health_renewal_idx"),
            models.Index(fields=["red_flags"], name="health_red_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(health_score__lte=100), name="health_score_lte_100"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.health_score} ({self.health_label})"


class HealthDaily(models.Model):
    """One health score per customer and day, for trends (12-week chart, drops)."""

    id = models.BigAutoField(primary_key=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="health_history")
    day = models.DateField()
    health_score = models.PositiveSmallIntegerField()
    churn_risk = models.FloatField(null=True, blank=True, help_text="Null when the account has churned (canceled).")
    red_flags = models.PositiveSmallIntegerField(default=0)

    class Meta:
        db_table = "enrichment_healthdaily"
        ordering = ["customer", "day"]
        verbose_name_plural = "health history"
        constraints = [models.UniqueConstraint(fields=["customer", "day"], name="health_daily_unique")]
        indexes = [models.Index(fields=["day", "health_score"], name="health_daily_day_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.day}: {self.health_score}"


class ContextSnapshot(models.Model):
    """The substance of a customer's context at a moment (health, churn risk,
    flags, plan, seats, renewal, open tickets, latest tickets, incidents),
    written by the context service only when it differs from the previous one
    (``content_hash``). The changes API and the admin's timeline read these."""

    id = models.BigAutoField(primary_key=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="context_snapshots")
    created_at = models.DateTimeField()
    content_hash = models.CharField(max_length=40)
    data = models.JSONField(default=dict)

    class Meta:
        db_table = "enrichment_contextsnapshot"
        ordering = ["customer", "created_at"]
        indexes = [models.Index(fields=["customer", "created_at"], name="context_snapshot_customer_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} @ {self.created_at:%Y-%m-%d %H:%M}: {self.data.get('score')}"


class ConversationOutcome(models.Model):
    """How a conversation ended, as the agent that answered it reports it
    (REST or MCP): the raw material for judging which context helped.
    ``key`` makes recording idempotent: the same key records once."""

    key = models.CharField(max_length=100, unique=True, help_text="Idempotency key chosen by the caller.")
    customer_external_id = models.CharField(max_length=64, db_index=True)
    ticket_id = models.BigIntegerField(null=True, blank=True)
    context_id = models.CharField(max_length=255, blank=True, help_text="The context served, when the caller knows it.")
    # From the context id: the experiment and strategy that built the context served, and the unit assigned.
    experiment_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    strategy = models.CharField(max_length=60, blank=True)
    unit_key = models.CharField(max_length=300, blank=True)
    resolved = models.BooleanField(null=True)
    escalated = models.BooleanField(null=True)
    reopened = models.BooleanField(null=True)
    csat = models.PositiveSmallIntegerField(null=True, blank=True)
    handle_time_seconds = models.PositiveIntegerField(null=True, blank=True)
    context_rating = models.PositiveSmallIntegerField(null=True, blank=True, help_text="The agent's own rating of the context, 1-5.")
    note = models.CharField(max_length=1000, blank=True)
    recorded_by = models.CharField(max_length=100, blank=True, help_text="The API token's name.")
    recorded_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "enrichment_conversationoutcome"
        constraints = [
            models.CheckConstraint(condition=models.Q(csat__isnull=True) | models.Q(csat__gte=1, csat__lte=5), name="outcome_csat_1_5"),
            models.CheckConstraint(
                condition=models.Q(context_rating__isnull=True) | models.Q(context_rating__gte=1, context_rating__lte=5),
                name="outcome_rating_1_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_external_id} {self.key}"
