"""The customer-facing view's responses, for the OpenAPI schema only (the
view itself is :mod:`enrichment.context.customer_view`), and the response
types that are one of the two views depending on the token's scope."""

from __future__ import annotations

from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers

from enrichment.api.serializers.outputs import ContextSerializer, ErrorDetailSerializer


class CustomerTicketSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    subject = serializers.CharField(help_text="Customer text.")
    status = serializers.CharField()
    channel = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField(allow_null=True)


class CustomerSubscriptionSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="trialing, active, past_due, canceled or none.")
    plan = serializers.CharField()
    billing_cycle = serializers.CharField()
    seats_purchased = serializers.IntegerField()
    seats_used = serializers.IntegerField()
    renewal_date = serializers.DateField(allow_null=True)
    days_to_renewal = serializers.IntegerField(allow_null=True)
    is_trial = serializers.BooleanField()
    trial_ends_at = serializers.DateField(allow_null=True)
    days_to_trial_end = serializers.IntegerField(allow_null=True)
    canceled_at = serializers.DateField(allow_null=True)


class CustomerIncidentSerializer(serializers.Serializer):
    title = serializers.CharField()
    impact = serializers.CharField()
    status = serializers.CharField()
    started_at = serializers.DateTimeField()


class CustomerRequesterSerializer(serializers.Serializer):
    email = serializers.CharField()
    name = serializers.CharField()
    title = serializers.CharField()
    account_roles = serializers.ListField(child=serializers.CharField())
    open_tickets = CustomerTicketSerializer(many=True)
    recent_tickets = CustomerTicketSerializer(many=True)


class CustomerFocusTicketSerializer(CustomerTicketSerializer):
    resolved_at = serializers.DateTimeField(allow_null=True)


class CustomerFacingContextSerializer(serializers.Serializer):
    """What a ``customer_facing`` token gets: only facts that may be said to
    the customer, by allowlist. Never health, churn risk, MRR, flags,
    suggested actions, owner or agent names, or engagement figures."""

    customer_id = serializers.CharField()
    view = serializers.ChoiceField(choices=["customer_facing"])
    company_name = serializers.CharField()
    plan = serializers.CharField()
    plan_name = serializers.CharField()
    lifecycle = serializers.CharField()
    subscription = CustomerSubscriptionSerializer()
    open_tickets_count = serializers.IntegerField()
    open_tickets = CustomerTicketSerializer(many=True, help_text="The newest open tickets, at most 5.")
    incidents = CustomerIncidentSerializer(many=True, help_text="Open incidents that affect this customer.")
    requester = CustomerRequesterSerializer(required=False, help_text="With ?email= or for a ticket.")
    ticket = CustomerFocusTicketSerializer(required=False, help_text="For a ticket.")
    extensions = serializers.DictField(help_text="Extension sections declared customer-facing, by key.")
    enriched_at = serializers.DateTimeField(allow_null=True)
    cache_hit = serializers.BooleanField()
    enrichment_latency_ms = serializers.FloatField()
    prompt = serializers.CharField(help_text="The customer-facing <customer_context> block.")
    context_id = serializers.CharField(help_text="Names this context as served: send it with the conversation's outcome.")
    strategy = serializers.CharField(help_text="The context strategy that built the prompt.")
    experiment = serializers.CharField(allow_null=True, help_text="The experiment that chose the strategy, if any.")


ContextResponse = PolymorphicProxySerializer(
    component_name="ContextResponse",
    serializers=[ContextSerializer, CustomerFacingContextSerializer],
    resource_type_field_name=None,
)






class BatchItemSerializer(serializers.Serializer):
    customer_id = serializers.JSONField(required=False, help_text="The id as it was sent (items asked by customer id).")
    email = serializers.JSONField(required=False, help_text="The email as it was sent (items asked by email).")
    status = serializers.ChoiceField(choices=["ok", "not_found", "invalid"])
    context = PolymorphicProxySerializer(
        component_name="BatchContext",
        serializers=[ContextSerializer, CustomerFacingContextSerializer],
        resource_type_field_name=None,
        allow_null=True,
    )
    error = ErrorDetailSerializer(allow_null=True)


class BatchResponseSerializer(serializers.Serializer):
    results = BatchItemSerializer(many=True)
