from __future__ import annotations

from django.db import models

from customers.models import Customer


class Plan(models.Model):
    code = models.SlugField(max_length=50, unique=True, help_text="e.g. starter, premium, enterprise.")
    name = models.CharField(max_length=100)
    tier = models.PositiveSmallIntegerField(default=1, help_text="Higher is a bigger plan.")
    monthly_price_per_seat = models.DecimalField(max_digits=10, decimal_places=2, default=0)

    class Meta:
        ordering = ["tier", "code"]

    def __str__(self) -> str:
        return self.name


class SubscriptionStatus(models.TextChoices):
    TRIALING = "trialing", "Trialing"
    ACTIVE = "active", "Active"
    PAST_DUE = "past_due", "Past due"
    CANCELED = "canceled", "Canceled"


class BillingCycle(models.TextChoices):
    MONTHLY = "monthly", "Monthly"
    ANNUAL = "annual", "Annual"


LIVE_STATUSES = (SubscriptionStatus.TRIALING, SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE)


class Subscription(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="subscriptions")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    status = models.CharField(max_length=20, choices=SubscriptionStatus.choices)
    billing_cycle = models.CharField(max_length=10, choices=BillingCycle.choices, default=BillingCycle.MONTHLY)
    seats_purchased = models.IntegerField()
    seats_used = models.IntegerField(default=0)
    mrr = models.DecimalField(max_digits=12, decimal_places=2, help_text="Monthly recurring revenue, USD.")
    started_at = models.DateField()
    renewal_date = models.DateField(null=True, blank=True)
    trial_ends_at = models.DateField(null=True, blank=True)
    canceled_at = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["customer", "status"], name="subscription_customer_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(seats_purchased__gte=0), name="subscription_seats_purchased_gte_0"),
            models.CheckConstraint(condition=models.Q(seats_used__gte=0), name="subscription_seats_used_gte_0"),
            models.CheckConstraint(condition=models.Q(mrr__gte=0), name="subscription_mrr_gte_0"),
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(status__in=LIVE_STATUSES),
                name="subscription_one_live_per_customer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.plan_id} ({self.status})"


class InvoiceStatus(models.TextChoices):
    PAID = "paid", "Paid"
    OPEN = "open", "Open"
    FAILED = "failed", "Failed"


class Invoice(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="invoices")
    subscription = models.ForeignKey(Subscription, on_delete=models.SET_NULL, null=True, blank=True, related_name="invoices")
    number = models.CharField(max_length=40, unique=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(max_length=10, choices=InvoiceStatus.choices)
    issued_at = models.DateField()
    due_at = models.DateField()
    paid_at = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-issued_at"]
        indexes = [models.Index(fields=["customer", "status", "issued_at"], name="invoice_customer_status_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="invoice_amount_gte_0"),
        ]

    def __str__(self) -> str:
        return self.number
