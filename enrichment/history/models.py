from __future__ import annotations

from django.db import models

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
