from __future__ import annotations

from django.db import models

from customers.models import Customer


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
    tasks in :mod:`enrichment.vendors.tasks` and only read at request time.

    ``payload`` is the normalised, typed result (``CompanyData``,
    ``FundingData`` or ``NewsData`` from :mod:`enrichment.vendors.base`
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
        db_table = "enrichment_externalrecord"
        ordering = ["customer", "vendor"]
        constraints = [models.UniqueConstraint(fields=["customer", "vendor"], name="external_record_customer_vendor_unique")]
        indexes = [models.Index(fields=["vendor", "fetched_at"], name="external_record_vendor_age_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.vendor}: {self.status}"
