"""Output serializers: the responses, for the OpenAPI schema only.

They are never used to build responses (the context service's dataclasses
render themselves); the context's sections are described by serializers
generated from the dataclasses (:mod:`enrichment.api.serializers.generated`).
The extension sections of the configured providers are added to
:class:`ContextSerializer` each time its fields are built, i.e. when the schema
is generated, so ``ENRICHMENT_PROVIDERS`` as it is then is documented.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from enrichment.api.serializers.generated import dataclass_serializer, section_field
from enrichment.context import sections as ctx
from enrichment.context.registry import extension_sections
from enrichment.context.requester import Requester, TicketInFocus


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, for programs: e.g. customer_not_found, invalid_parameter.")
    message = serializers.CharField(help_text="For people.")
    details = serializers.JSONField(allow_null=True, help_text="null, or an object with more detail.")


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


class AgentWorkloadSerializer(serializers.Serializer):
    """One support agent's own figures (``?agent=``), over ``window_days`` days."""

    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()
    window_days = serializers.IntegerField()
    open_tickets = serializers.IntegerField(help_text="Open or pending tickets assigned to them now.")
    tickets = serializers.IntegerField(help_text="Tickets assigned to them created in the window.")
    solved = serializers.IntegerField()
    median_first_response_hours = serializers.FloatField(allow_null=True)
    avg_csat = serializers.FloatField(allow_null=True)
    csat_responses = serializers.IntegerField()
    customer_tickets = serializers.IntegerField(help_text="Their tickets with this customer, ever.")
    customer_avg_csat = serializers.FloatField(allow_null=True)


AgentPerformanceSerializer = type(
    "AgentPerformanceSerializer",
    (dataclass_serializer(ctx.AgentPerformance),),
    {"agent": AgentWorkloadSerializer(required=False), "__doc__": (ctx.AgentPerformance.__doc__ or "").strip()},
)


class ContextSerializer(serializers.Serializer):
    """A customer's context (full scope): one object per section (company,
    engagement, support, subscription, health, enrichment, product status,
    current activity, agent performance), then ``health_breakdown``,
    ``flags`` and ``next_actions``, where each section's data came from
    (``sources``) and which sections could not be computed (``degraded``),
    plus the ready ``prompt`` block, plus any additional sections this
    deployment adds, under their own keys. With ``?sections=`` only those
    sections are present. ``requester`` when asked by contact email or for a
    ticket; ``ticket`` for a ticket. A ``customer_facing`` token gets the
    customer-facing view instead (``CustomerFacingContext``)."""

    customer_id = serializers.CharField()
    customer_intelligence = section_field(ctx.CustomerIntelligence)
    engagement_metrics = section_field(ctx.EngagementMetrics)
    support_history = section_field(ctx.SupportHistory)
    subscription_details = section_field(ctx.SubscriptionDetails)
    account_health = section_field(ctx.AccountHealth, exclude=frozenset({"breakdown", "flags"}))
    company_enrichment = dataclass_serializer(ctx.CompanyEnrichment)(required=False, allow_null=True)
    product_status = section_field(ctx.ProductStatus)
    current_activity = section_field(ctx.CurrentActivity)
    agent_performance = AgentPerformanceSerializer(required=False, help_text="`agent` only with the `agent` parameter.")
    next_actions = serializers.ListField(
        child=dataclass_serializer(ctx.NextAction)(), required=False, help_text="Suggested actions (stable codes), high priority first."
    )
    health_breakdown = serializers.ListField(child=dataclass_serializer(ctx.HealthFactor)(), required=False)
    flags = serializers.ListField(child=dataclass_serializer(ctx.Flag)(), required=False)
    enriched_at = serializers.DateTimeField(allow_null=True)
    cache_hit = serializers.BooleanField()
    enrichment_latency_ms = serializers.FloatField()
    sources = serializers.DictField(child=dataclass_serializer(ctx.SourceInfo)())
    degraded = serializers.ListField(child=dataclass_serializer(ctx.Degraded)())
    schema_version = serializers.IntegerField()
    prompt = serializers.CharField(help_text="The <customer_context> block for an LLM prompt.")
    context_id = serializers.CharField(help_text="Names this context as served: send it with the conversation's outcome.")
    strategy = serializers.CharField(help_text="The context strategy that built the prompt (`default` unless an experiment chose another).")
    experiment = serializers.CharField(allow_null=True, help_text="The experiment that chose the strategy, if any.")
    requester = dataclass_serializer(Requester)(required=False, help_text="Who is writing (by email or the ticket's contact).")
    ticket = dataclass_serializer(TicketInFocus)(required=False, help_text="The ticket being answered.")

    def get_fields(self) -> dict[str, serializers.Field]:
        """The declared fields, then one per extension section registered now."""
        fields = super().get_fields()
        for key, spec in extension_sections().items():
            audience = " Also in the customer-facing view's `extensions`." if spec.customer_facing else ""
            fields[key] = section_field(spec.section, help_text=f"{spec.title} (extension section `{key}`).{audience}")
        return fields


class SummarySerializer(serializers.Serializer):
    """A customer's headline figures, then ``lifecycle``. A canceled account has
    churned: ``churn_risk`` null, ``churn_risk_level`` "churned". A
    ``customer_facing`` token gets only ``company_name``, ``plan``,
    ``open_tickets``, ``days_to_renewal``, ``lifecycle`` and ``cache_hit``."""

    company_name = serializers.CharField()
    plan = serializers.CharField()
    health_score = serializers.IntegerField(required=False)
    churn_risk = serializers.FloatField(required=False, allow_null=True)
    churn_risk_level = serializers.CharField(required=False)
    login_count_30d = serializers.IntegerField(required=False)
    open_tickets = serializers.IntegerField()
    days_to_renewal = serializers.IntegerField(allow_null=True)
    has_critical_issues = serializers.BooleanField(required=False)
    has_opportunities = serializers.BooleanField(required=False)
    cache_hit = serializers.BooleanField()
    lifecycle = serializers.ChoiceField(
        choices=[*ctx.LIFECYCLE_STATES, "unknown"], help_text="trialing, active, past_due, canceled or no_subscription."
    )


class CustomerListItemSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    company_name = serializers.CharField()
    domain = serializers.CharField()
    industry = serializers.CharField()
    region = serializers.CharField()
    plan = serializers.CharField(allow_null=True, help_text="The live subscription's plan code.")
    health_score = serializers.IntegerField(allow_null=True, help_text="Last computed health score, if any.")
    health_label = serializers.CharField(allow_null=True)


class CustomerPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = CustomerListItemSerializer(many=True)


class IngestResponseSerializer(serializers.Serializer):
    received = serializers.IntegerField(help_text="Events in the request.")
    created = serializers.IntegerField(help_text="Events stored now.")
    duplicates = serializers.IntegerField(help_text="Events already stored (or repeated in the request), skipped.")


class InvalidationPendingSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["pending"])
    message = serializers.CharField()


class LivenessSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok"])


class ReadinessChecksSerializer(serializers.Serializer):
    database = serializers.CharField(help_text="ok, unreachable or timeout (required: 503 when not ok)")
    cache = serializers.CharField(help_text="ok, unreachable or timeout (degraded: still 200)")
    broker = serializers.CharField(help_text="ok, eager (no broker: tasks run inline), unreachable or timeout (degraded)")


class ReadinessSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "degraded", "error"])
    checks = ReadinessChecksSerializer()
    elapsed_ms = serializers.FloatField()


def throttle_rate_description() -> str:
    return str(getattr(settings, "API_THROTTLE_RATE", "") or "off")


# "from" is a Python keyword: these two are built with type().
ChangeDeltaSerializer = type(
    "ChangeDeltaSerializer",
    (serializers.Serializer,),
    {
        "from": serializers.FloatField(allow_null=True),
        "to": serializers.FloatField(allow_null=True),
        "delta": serializers.FloatField(allow_null=True),
        "__doc__": "A value then and now (a churn risk is null once the account has churned; so is its delta).",
    },
)
AccountChangeSerializer = type(
    "AccountChangeSerializer",
    (serializers.Serializer,),
    {
        "field": serializers.ChoiceField(choices=["plan", "subscription_status", "renewal_date", "seats_purchased", "seats_used"]),
        "from": serializers.JSONField(allow_null=True),
        "to": serializers.JSONField(allow_null=True),
        "__doc__": "A plan, subscription status, renewal date or seat count that changed.",
    },
)


class _FlagChangeSerializer(serializers.Serializer):
    code = serializers.CharField()
    level = serializers.ChoiceField(choices=["red", "yellow", "green"])


class FlagRaisedSerializer(_FlagChangeSerializer):
    message = serializers.CharField(help_text="The flag's current message.")


class IncidentRefSerializer(serializers.Serializer):
    id = serializers.CharField(required=False, help_text="Absent in the customer-facing view.")
    title = serializers.CharField()


class NewTicketSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    subject = serializers.CharField()
    status = serializers.CharField()
    priority = serializers.CharField(required=False, help_text="Absent in the customer-facing view.")
    created_at = serializers.DateTimeField()


class TimelineEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField(allow_null=True)
    health_score = serializers.IntegerField(allow_null=True)
    health_label = serializers.CharField(allow_null=True)
    changes = serializers.ListField(child=serializers.CharField())


class ChangesSerializer(serializers.Serializer):
    """What changed for a customer since a moment or since their previous
    ticket. ``health_score`` and ``churn_risk`` are null when no snapshot
    exists yet. A ``customer_facing`` token gets ``view`` "customer_facing"
    and only what changed on the customer's side: no ``baseline_at``,
    ``health_score``, ``churn_risk``, flags or ``timeline``."""

    view = serializers.ChoiceField(choices=["customer_facing"], required=False)

    customer_id = serializers.CharField()
    since = serializers.DateTimeField(allow_null=True, help_text="The moment compared with (null: no previous contact).")
    since_last_contact = serializers.BooleanField()
    last_contact_at = serializers.DateTimeField(allow_null=True, help_text="The previous ticket's creation (since_last_contact).")
    baseline_at = serializers.DateTimeField(allow_null=True, help_text="When the snapshot compared with was taken.", required=False)
    current_at = serializers.DateTimeField(allow_null=True)
    changed = serializers.BooleanField()
    health_score = ChangeDeltaSerializer(allow_null=True, required=False)
    churn_risk = ChangeDeltaSerializer(allow_null=True, required=False)
    flags_raised = FlagRaisedSerializer(many=True, required=False)
    flags_cleared = _FlagChangeSerializer(many=True, required=False)
    account_changes = AccountChangeSerializer(many=True)
    new_tickets = NewTicketSerializer(many=True)
    new_incidents = IncidentRefSerializer(many=True)
    resolved_incidents = IncidentRefSerializer(many=True)
    timeline = TimelineEntrySerializer(
        many=True, required=False, help_text="The snapshots in between, oldest first, with what each changed."
    )
    summary = serializers.ListField(child=serializers.CharField(), help_text="One line per change, as in the prompt.")
