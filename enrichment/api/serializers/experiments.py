"""Outcomes in, experiment results out."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from enrichment.api.serializers.inputs import _no_control_chars


class OutcomeSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=100, validators=[_no_control_chars], help_text="Idempotency key: the same key records once.")
    context_id = serializers.CharField(
        required=False, max_length=400, help_text="The `context_id` of the context served (from its JSON or X-Context-Id)."
    )
    ticket_id = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1, help_text="The ticket the conversation was.")
    resolved = serializers.BooleanField(required=False, allow_null=True, default=None)
    escalated = serializers.BooleanField(required=False, allow_null=True, default=None)
    reopened = serializers.BooleanField(required=False, allow_null=True, default=None)
    csat = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=5, default=None)
    handle_time_seconds = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=30 * 86400, default=None)
    context_rating = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=5, default=None, help_text="The agent's rating of the context, 1-5."
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("context_id") and not attrs.get("ticket_id"):
            raise serializers.ValidationError("give 'context_id' (the context served) or 'ticket_id' (the conversation), or both")
        return attrs


class OutcomeRecordedSerializer(serializers.Serializer):
    key = serializers.CharField()
    created = serializers.BooleanField(help_text="false: this key was recorded before; nothing changed.")


class EstimateSerializer(serializers.Serializer):
    n = serializers.IntegerField(help_text="Units with a figure for this outcome.")
    value = serializers.FloatField(allow_null=True, help_text="Rate (0-1) or mean.")
    low = serializers.FloatField(allow_null=True, help_text="95% interval.")
    high = serializers.FloatField(allow_null=True)


class DifferenceSerializer(serializers.Serializer):
    delta = serializers.FloatField(help_text="This strategy minus the control.")
    low = serializers.FloatField(help_text="Fixed-sample 95% interval (for reading).")
    high = serializers.FloatField()
    always_valid_low = serializers.FloatField(help_text="Always-valid 95% interval: valid however often you look; decides the verdict.")
    always_valid_high = serializers.FloatField()


class ArmSerializer(serializers.Serializer):
    strategy = serializers.CharField()
    units = serializers.IntegerField(help_text="Conversations (or requesters, or accounts) in this arm.")
    metrics = serializers.DictField(child=EstimateSerializer())
    versus_control = serializers.DictField(child=DifferenceSerializer(allow_null=True), allow_null=True)


class ResultsSerializer(serializers.Serializer):
    experiment = serializers.CharField()
    control = serializers.CharField()
    unit = serializers.CharField()
    primary_metric = serializers.CharField()
    min_sample_per_arm = serializers.IntegerField()
    verdict = serializers.CharField(help_text="In plain words; no winner before every arm has min_sample_per_arm units.")
    winner = serializers.CharField(allow_null=True)
    computed_at = serializers.DateTimeField()
    arms = ArmSerializer(many=True)
