from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Now

from customers.models import Contact, Customer


class TicketStatus(models.TextChoices):
    OPEN = "open", "Open"
    PENDING = "pending", "Pending"
    SOLVED = "solved", "Solved"
    CLOSED = "closed", "Closed"


OPEN_TICKET_STATUSES = (TicketStatus.OPEN, TicketStatus.PENDING)


class TicketPriority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class TicketChannel(models.TextChoices):
    EMAIL = "email", "Email"
    CHAT = "chat", "Chat"
    PHONE = "phone", "Phone"
    WEB = "web", "Web form"


class Ticket(models.Model):
    """A support conversation."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="tickets")
    contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="tickets")
    subject = models.CharField(max_length=300)
    channel = models.CharField(max_length=10, choices=TicketChannel.choices, default=TicketChannel.EMAIL)
    status = models.CharField(max_length=10, choices=TicketStatus.choices, default=TicketStatus.OPEN)
    priority = models.CharField(max_length=10, choices=TicketPriority.choices, default=TicketPriority.NORMAL)
    category = models.CharField(max_length=50, blank=True, help_text="e.g. billing, bug, how_to.")
    created_at = models.DateTimeField()
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    csat = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Customer satisfaction, 1-5.")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="tickets")
    # Kept by the database (support/migrations/0003): any UPDATE that does not
    # set them itself moves ``updated_at`` to now, and a move from solved or
    # closed back to open or pending adds one to ``reopened_count``.
    updated_at = models.DateTimeField(db_default=Now(), help_text="Last change to the ticket (kept by the database).")
    reopened_count = models.PositiveSmallIntegerField(
        default=0, db_default=0, help_text="Times reopened after being solved or closed (kept by the database)."
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["customer", "created_at"], name="ticket_customer_created_idx"),
            models.Index(fields=["customer", "status"], name="ticket_customer_status_idx"),
            models.Index(fields=["assignee", "created_at"], name="ticket_assignee_created_idx"),
            models.Index(fields=["contact", "created_at"], name="ticket_contact_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(csat__isnull=True) | models.Q(csat__gte=1, csat__lte=5),
                name="ticket_csat_between_1_and_5",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"


class IncidentImpact(models.TextChoices):
    NONE = "none", "None"
    MINOR = "minor", "Minor"
    MAJOR = "major", "Major"
    CRITICAL = "critical", "Critical"


class IncidentStatus(models.TextChoices):
    INVESTIGATING = "investigating", "Investigating"
    IDENTIFIED = "identified", "Identified"
    MONITORING = "monitoring", "Monitoring"
    RESOLVED = "resolved", "Resolved"


class Incident(models.Model):
    """A product incident. Empty affected lists mean "everyone"."""

    title = models.CharField(max_length=300)
    impact = models.CharField(max_length=10, choices=IncidentImpact.choices, default=IncidentImpact.MINOR)
    status = models.CharField(max_length=15, choices=IncidentStatus.choices, default=IncidentStatus.INVESTIGATING)
    components = models.JSONField(default=list, blank=True, help_text='Affected features, e.g. ["reports"].')
    affected_plans = models.JSONField(default=list, blank=True, help_text="Plan codes; empty means all plans.")
    affected_regions = models.JSONField(default=list, blank=True, help_text="Regions; empty means all regions.")
    started_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["status", "started_at"], name="incident_status_idx")]

    def __str__(self) -> str:
        return self.title
