from __future__ import annotations

from django.conf import settings
from django.db import models

from customers.models import Customer


class TokenScope(models.TextChoices):
    FULL = "full", "Full (support staff tools)"
    CUSTOMER_FACING = "customer_facing", "Customer-facing (no revenue, churn risk or health breakdown)"


class ApiToken(models.Model):
    """An API key for agents. The secret is shown once and stored as a SHA-256
    hash; ``prefix`` finds the row without scanning."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    scope = models.CharField(max_length=20, choices=TokenScope.choices, default=TokenScope.FULL)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.scope})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class CustomerHealth(models.Model):
    """The latest computed health of a customer, denormalised for the admin's
    list and dashboard (100,000 rows sorted and filtered without enrichment).
    Written by the context service whenever it computes a context."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, primary_key=True, related_name="health")
    health_score = models.PositiveSmallIntegerField()
    health_label = models.CharField(max_length=20)
    churn_risk = models.FloatField()
    churn_risk_level = models.CharField(max_length=10)
    red_flags = models.PositiveSmallIntegerField(default=0)
    yellow_flags = models.PositiveSmallIntegerField(default=0)
    green_flags = models.PositiveSmallIntegerField(default=0)
    flag_codes = models.JSONField(default=list, blank=True)
    plan = models.CharField(max_length=50, blank=True)
    mrr = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    renewal_date = models.DateField(null=True, blank=True)
    computed_at = models.DateTimeField()
    # Hash of the context's substance (enrichment.snapshots): a new
    # ContextSnapshot is written only when it changes, without reading first.
    content_hash = models.CharField(max_length=40, blank=True, default="")

    class Meta:
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
    churn_risk = models.FloatField()
    red_flags = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["customer", "day"]
        verbose_name_plural = "health history"
        constraints = [models.UniqueConstraint(fields=["customer", "day"], name="health_daily_unique")]
        indexes = [models.Index(fields=["day", "health_score"], name="health_daily_day_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.day}: {self.health_score}"


class ExternalVendor(models.TextChoices):
    CLEARBIT = "clearbit", "Clearbit (company data)"
    PEOPLEDATALABS = "peopledatalabs", "People Data Labs (company data)"
    CRUNCHBASE = "crunchbase", "Crunchbase (funding)"
    NEWSAPI = "newsapi", "NewsAPI (news)"


class ExternalStatus(models.TextChoices):
    OK = "ok", "OK"
    NO_DATA = "no_data", "No data"  # the vendor knows nothing about the company: a normal answer
    QUEUED = "queued", "Queued at the vendor"  # Clearbit 202: asked again later
    ERROR = "error", "Error"


class ExternalRecord(models.Model):
    """What one vendor said about one customer, written only by the Celery
    tasks in :mod:`enrichment.external_tasks` and only read at request time.

    ``payload`` is the normalised, typed result (``CompanyData``,
    ``FundingData`` or ``NewsData`` from :mod:`enrichment.integrations.base`
    as JSON), never the vendor's raw body. It is kept when a later fetch fails,
    so a vendor outage never wipes good data. ``fetched_at`` is when the vendor
    last answered (ok or no_data): the record is stale once it is older than
    ``EXTERNAL_DATA_TTL_HOURS``. ``status``, ``error`` and ``attempts``
    describe the latest fetch (attempts = calls made for it so far).
    """

    id = models.BigAutoField(primary_key=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="external_records")
    vendor = models.CharField(max_length=20, choices=ExternalVendor.choices)
    status = models.CharField(max_length=10, choices=ExternalStatus.choices)
    payload = models.JSONField(default=dict, blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True, help_text="When the vendor last answered (ok or no data).")
    checked_at = models.DateTimeField(help_text="When the latest attempt ended.")
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["customer", "vendor"]
        constraints = [models.UniqueConstraint(fields=["customer", "vendor"], name="external_record_customer_vendor_unique")]
        indexes = [models.Index(fields=["vendor", "fetched_at"], name="external_record_vendor_age_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.vendor}: {self.status}"


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
        ordering = ["customer", "created_at"]
        indexes = [models.Index(fields=["customer", "created_at"], name="context_snapshot_customer_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} @ {self.created_at:%Y-%m-%d %H:%M}: {self.data.get('score')}"
