from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower, Now

EXTERNAL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
external_id_validator = RegexValidator(
    EXTERNAL_ID_PATTERN,
    "An external id is 1-64 characters: letters, digits, '_', '.', ':' or '-', starting with a letter or digit.",
)


class Customer(models.Model):
    """A customer account: the company an agent is talking to."""

    external_id = models.CharField(
        max_length=64,
        unique=True,
        validators=[external_id_validator],
        help_text="The id agents and other systems use, e.g. customer_123.",
    )
    company_name = models.CharField(max_length=200)
    domain = models.CharField(max_length=253, blank=True, help_text="Lower-case, e.g. acme.com.")
    industry = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=50, blank=True, help_text="e.g. us, eu, apac.")
    customer_since = models.DateField()
    account_owner = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["company_name"]
        indexes = [
            models.Index(fields=["domain"], name="customer_domain_idx"),
            models.Index(Lower("company_name"), name="customer_name_lower_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(external_id=""), name="customer_external_id_not_blank"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company_name} ({self.external_id})"


# A contact's roles on the account (``Contact.account_roles``), in display order.
ACCOUNT_ROLES = {
    "admin": "Admin",
    "billing": "Billing contact",
    "champion": "Champion",
    "decision_maker": "Decision maker",
    "technical": "Technical contact",
}


class Contact(models.Model):
    """A person at a customer. Agents often know only the requester's email."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    email = models.EmailField(max_length=254, unique=True, help_text="Stored lower-case.")
    name = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=100, blank=True, help_text="Their role in the product, e.g. admin, member.")
    # Database defaults too: bulk loads and other services that insert contacts need not name them.
    title = models.CharField(max_length=200, blank=True, default="", db_default="", help_text="Job title, e.g. Head of Operations.")
    account_roles = models.JSONField(
        default=list,
        db_default=[],
        blank=True,
        help_text='What they are to the account, any of: ' + ", ".join(f'"{code}"' for code in ACCOUNT_ROLES) + ".",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["email"]
        constraints = [
            models.CheckConstraint(condition=models.Q(email=Lower("email")), name="contact_email_lowercase"),
        ]

    def __str__(self) -> str:
        return self.email


class EngagementKind(models.TextChoices):
    LOGIN = "login", "Login"
    FEATURE_USE = "feature_use", "Feature use"
    API_CALL = "api_call", "API call"
    ERROR = "error", "Error"
    INVITE = "invite", "Invite"


class EngagementEvent(models.Model):
    """One product usage event. The biggest table: enrichment reads the daily
    rollup (:class:`EngagementDaily`) and single index probes, never a scan.

    On PostgreSQL the table is partitioned by month of ``occurred_at``
    (migration 0010, :mod:`customers.partitions`): its primary key is
    ``(id, occurred_at)`` in the database (``id`` alone here, still unique:
    one sequence), and ``(event_id, occurred_at)`` is unique, as a unique
    constraint on a partitioned table must include the partition key. Each
    ``event_id`` is stored once: :class:`EngagementEventKey`, the ingestion's
    ledger. SQLite keeps a plain table with the same constraints."""

    id = models.BigAutoField(primary_key=True)
    # No index of their own: the (customer, occurred_at) and (contact, occurred_at) indexes lead with them.
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="events", db_index=False)
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="events", db_index=False
    )
    kind = models.CharField(max_length=20, choices=EngagementKind.choices)
    feature = models.CharField(max_length=64, blank=True)
    occurred_at = models.DateTimeField()
    event_id = models.CharField(  # noqa: DJ001 - NULL: no id (events without one never collide; "" would)
        max_length=100,
        null=True,
        blank=True,
        help_text="Client-supplied id that makes ingestion idempotent.",
    )

    class Meta:
        indexes = [
            # One customer's events in a time range, read from the index alone (PostgreSQL: INCLUDE): the windows'
            # edges, the last login of a day. Time second, so that any range is one index range, also where
            # partitions make PostgreSQL keep one generic plan for a statement (customers.windows.within_months).
            models.Index(fields=["customer", "occurred_at"], include=["kind", "feature"], name="event_customer_time_idx"),
            models.Index(fields=["occurred_at"], name="event_time_idx"),
            # The requester's own activity (last login, features used lately).
            models.Index(fields=["contact", "occurred_at"], name="event_contact_time_idx"),
        ]
        constraints = [
            # What a partitioned table can hold unique (the partition key in it): the same event never twice,
            # whoever writes. Each event_id once: EngagementEventKey.
            models.UniqueConstraint(
                fields=["event_id", "occurred_at"], condition=models.Q(event_id__isnull=False), name="event_id_occurred_at_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.feature or '-'} @ {self.occurred_at:%Y-%m-%d %H:%M}"


class EngagementDaily(models.Model):
    """Events per customer, UTC day, kind and feature, kept by database
    triggers on the events table (migration 0004), whoever writes the events.
    Enrichment sums at most 60 days of these rows per customer, so its cost
    does not grow with the customer's history."""

    id = models.BigAutoField(primary_key=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="daily_engagement")
    day = models.DateField()
    kind = models.CharField(max_length=20, choices=EngagementKind.choices)
    feature = models.CharField(max_length=64, blank=True, default="")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "engagement daily rollups"
        indexes = [
            # Covering index (PostgreSQL): a customer's 60-day window is read by an
            # index-only scan, its rows together in the index instead of scattered
            # over the heap. SQLite has no INCLUDE (models.W040, silenced in settings).
            models.Index(fields=["customer", "day"], include=["kind", "feature", "count"], name="engagement_daily_window_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["customer", "day", "kind", "feature"], name="engagement_daily_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.day} {self.kind}:{self.feature or '-'} x{self.count}"


class CustomerDataChange(models.Model):
    """A note that a customer's data changed, written by the database itself.

    Triggers on every table a context is built from (customers, contacts,
    events, tickets, subscriptions, invoices, plans; see the ``customers``,
    ``billing`` and ``support`` migrations) add one row per customer per
    statement, whoever wrote it: the ORM, ``update()``, ``bulk_create``, raw
    SQL, another service. On PostgreSQL they also ``NOTIFY``
    :data:`customers.changes.CHANNEL`. Whoever keeps derived data (the
    enrichment's change listener) reads, acts on and deletes these rows
    (:mod:`customers.changes`).
    """

    id = models.BigAutoField(primary_key=True)
    external_id = models.CharField(max_length=64)
    source = models.CharField(max_length=63, help_text="The table that changed.")
    changed_at = models.DateTimeField(db_default=Now())

    class Meta:
        indexes = [models.Index(fields=["changed_at"], name="customer_change_time_idx")]

    def __str__(self) -> str:
        return f"{self.external_id} ({self.source}) @ {self.changed_at}"


class EngagementEventKey(models.Model):
    """Every ``event_id`` stored in the events, once: the ingestion's
    idempotency ledger (:func:`customers.services.engagement_events_ingest`
    claims an id here before it stores the event, so a retried event is never
    stored twice, whatever its ``occurred_at``: the partitioned events table
    can only hold ``(event_id, occurred_at)`` unique). Kept by database
    triggers on the events table (:mod:`customers.triggers`, migration 0010):
    an insert by any writer records its ids, a delete frees them. The
    retention drops the keys of the months it drops (and ingestion refuses
    events older than those months)."""

    event_id = models.CharField(max_length=100, primary_key=True)
    occurred_at = models.DateTimeField(help_text="The event's time: the retention drops the keys of the months it drops.")

    class Meta:
        indexes = [models.Index(fields=["occurred_at"], name="event_key_time_idx")]

    def __str__(self) -> str:
        return self.event_id


class EventPartitionDrop(models.Model):
    """A monthly partition of the raw events dropped by the retention
    (:func:`customers.partitions.events_retention_apply`, PostgreSQL). The
    daily rollup keeps those months; the rollup's checks and rebuilds leave
    the days before the latest ``range_end`` alone (no raw events to compare)."""

    id = models.BigAutoField(primary_key=True)
    name = models.CharField(max_length=63)
    range_start = models.DateTimeField()
    range_end = models.DateTimeField()
    rows = models.BigIntegerField(help_text="Events it held, counted just before it was dropped.")
    dropped_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["range_start"]

    def __str__(self) -> str:
        return f"{self.name} ({self.rows} events) dropped {self.dropped_at:%Y-%m-%d}"
