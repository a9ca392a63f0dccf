"""Input serializers: query strings and request bodies, validated by the views.

``?sections=`` accepts every known section, the built-in ones and the
extension sections of the configured providers
(:func:`enrichment.context.registry.section_types`), read at validation time so
a settings change is honoured.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from customers.models import EXTERNAL_ID_PATTERN, EngagementKind
from customers.partitions import events_kept_since
from enrichment.context.registry import section_types

MAX_CHARS_MIN = 200
MAX_CHARS_MAX = 100_000
BATCH_MAX_CUSTOMERS = 100
EVENTS_MAX = 1000
EVENT_FUTURE_TOLERANCE = dt.timedelta(hours=1)
EVENT_OLDEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
SEARCH_MAX_LENGTH = 200
PAGE_SIZE_DEFAULT = 25
PAGE_SIZE_MAX = 100
OFFSET_MAX = 1_000_000


def _no_control_chars(value: str) -> None:
    if any(ord(ch) < 32 or ord(ch) == 127 or 0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        raise serializers.ValidationError("must not contain control characters or lone surrogates")


class StrictIntegerField(serializers.IntegerField):
    """An integer written in ASCII digits only (an optional leading ``-``): ``int()``
    would also take "٣٠٠", " 300", "3_00" or "300.0", and ``str.isdigit()`` takes "²"."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, str) and not _ASCII_INTEGER.fullmatch(data):
            self.fail("invalid")
        return super().to_internal_value(data)


_ASCII_INTEGER = re.compile(r"-?[0-9]{1,12}")


# --- query strings ---------------------------------------------------------------------


class RefreshQuerySerializer(serializers.Serializer):
    refresh = serializers.BooleanField(required=False, default=False, help_text="true: skip both cache tiers and recompute the context.")


class PromptQuerySerializer(RefreshQuerySerializer):
    max_chars = StrictIntegerField(
        required=False,
        min_value=MAX_CHARS_MIN,
        max_value=MAX_CHARS_MAX,
        help_text=(
            f"Size budget for the prompt block ({MAX_CHARS_MIN}-{MAX_CHARS_MAX} characters). The least important "
            "parts are dropped first; critical issues never are."
        ),
    )


class PromptViewQuerySerializer(PromptQuerySerializer):
    include_changes = serializers.BooleanField(
        required=False,
        default=False,
        help_text=(
            "true: add a 'Changes since last contact:' part (health and churn deltas, flags raised and cleared, "
            "plan/seat/renewal changes, new tickets and incidents since the customer's previous ticket)."
        ),
    )


AGENT_HELP = (
    "The support agent asking: a user id or username. Adds that agent's own figures (open tickets, median first "
    "response and CSAT over the last AGENT_PERFORMANCE_DAYS days, their tickets with this customer) under "
    "`agent_performance.agent`. Needs the `full` scope; an unknown or inactive agent is 400."
)


def sections_help() -> str:
    """The ``sections`` parameter's description, naming every section known now."""
    return (
        "Comma-separated sections to include in the JSON, from: "
        f"{', '.join(section_types())}. Default: all. The `prompt` field is always the whole block."
    )


class ContextQuerySerializer(PromptQuerySerializer):
    agent = serializers.CharField(required=False, max_length=150, validators=[_no_control_chars], help_text=AGENT_HELP)
    sections = serializers.CharField(required=False, max_length=500)  # help_text: see get_fields

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["sections"].help_text = sections_help()  # extension sections as configured now
        return fields

    def validate_sections(self, value: str) -> tuple[str, ...]:
        known = section_types()
        valid = ", ".join(known)
        names = [name.strip() for name in value.split(",") if name.strip()]
        if not names:
            raise serializers.ValidationError(f"give at least one section; valid sections: {valid}")
        unknown = sorted({name for name in names if name not in known})
        if unknown:
            raise serializers.ValidationError(f"unknown section(s): {', '.join(unknown)}; valid sections: {valid}")
        return tuple(dict.fromkeys(names))


class LookupQuerySerializer(ContextQuerySerializer):
    email = serializers.CharField(required=False, max_length=254, help_text="A contact's email address, e.g. jane@acme.com.")
    domain = serializers.CharField(required=False, max_length=253, help_text="The customer's domain, e.g. acme.com.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = [key for key in ("email", "domain") if attrs.get(key)]
        if len(given) != 1:
            raise serializers.ValidationError("give exactly one of the query parameters 'email' or 'domain'")
        return attrs


class ChangesQuerySerializer(RefreshQuerySerializer):
    since = serializers.CharField(
        required=False,
        max_length=64,
        help_text="ISO 8601 date-time with a time zone (e.g. 2025-11-13T14:32:00Z), or a date (midnight UTC).",
    )
    since_last_contact = serializers.BooleanField(
        required=False, default=False, help_text="true: since the customer's previous ticket (the one before the newest)."
    )

    def validate_since(self, value: str) -> dt.datetime:
        value = value.strip()
        try:
            day = parse_date(value) if len(value) == 10 else None
            parsed = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC) if day else parse_datetime(value)
        except (ValueError, OverflowError):
            parsed = None
        if parsed is None:
            raise serializers.ValidationError("not an ISO 8601 date or date-time")
        if timezone.is_naive(parsed):
            raise serializers.ValidationError("needs a time zone (e.g. 'Z' or '+02:00')")
        try:
            parsed = parsed.astimezone(dt.UTC)
        except (ValueError, OverflowError) as exc:
            raise serializers.ValidationError("is out of range") from exc
        if parsed < EVENT_OLDEST:
            raise serializers.ValidationError(f"is before {EVENT_OLDEST.date().isoformat()}")
        if parsed > timezone.now() + EVENT_FUTURE_TOLERANCE:
            raise serializers.ValidationError("is in the future")
        return parsed

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if bool(attrs.get("since")) == bool(attrs.get("since_last_contact")):
            raise serializers.ValidationError("give exactly one of 'since' or 'since_last_contact=true'")
        return attrs


class CustomerSearchQuerySerializer(serializers.Serializer):
    search = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=SEARCH_MAX_LENGTH,
        validators=[_no_control_chars],
        help_text="Company name (contains), domain or contact email (starts with), or exact external id.",
    )
    limit = StrictIntegerField(
        required=False, min_value=1, max_value=PAGE_SIZE_MAX, default=PAGE_SIZE_DEFAULT, help_text="Page size."
    )
    offset = StrictIntegerField(required=False, min_value=0, max_value=OFFSET_MAX, default=0)


# --- bodies ----------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.STR)
class AnyValueField(serializers.Field):
    """Passes any JSON value through, so one bad id in a batch is reported for
    that item instead of failing the batch. Documented as a string."""

    def to_internal_value(self, data: Any) -> Any:
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class ContextBatchSerializer(serializers.Serializer):
    customer_ids = serializers.ListField(
        child=AnyValueField(allow_null=True),
        required=False,
        help_text=f"Customer external ids; duplicates are answered once. With `emails`, {BATCH_MAX_CUSTOMERS} items at most in all.",
    )
    emails = serializers.ListField(
        child=AnyValueField(allow_null=True),
        required=False,
        help_text="Requesters' contact emails: each item's context carries that `requester`. Answered after the ids.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        ids, emails = attrs.get("customer_ids") or [], attrs.get("emails") or []
        if not ids and not emails:
            raise serializers.ValidationError("give at least one item in 'customer_ids' or 'emails'")
        if len(ids) + len(emails) > BATCH_MAX_CUSTOMERS:
            raise serializers.ValidationError(
                f"at most {BATCH_MAX_CUSTOMERS} items per batch, got {len(ids) + len(emails)}; split the request",
                code="batch_too_large",
            )
        attrs["customer_ids"], attrs["emails"] = ids, emails
        return attrs


@extend_schema_field({"type": "string", "format": "date-time"})
class AwareDateTimeField(serializers.CharField):
    """An ISO 8601 date-time string; the offset is required (checked by the serializer)."""


class EventSerializer(serializers.Serializer):
    event_id = serializers.CharField(
        max_length=100,
        validators=[_no_control_chars],
        help_text="Your id for the event; makes ingestion idempotent.",
    )
    customer_id = serializers.RegexField(
        EXTERNAL_ID_PATTERN, max_length=64, help_text="The customer's external id.", error_messages={"invalid": "not a valid customer id"}
    )
    kind = serializers.ChoiceField(choices=EngagementKind.choices)
    feature = serializers.CharField(max_length=64, required=False, allow_blank=True, default="", validators=[_no_control_chars])
    occurred_at = AwareDateTimeField(
        max_length=64, help_text="ISO 8601 with a time zone, e.g. 2025-11-13T14:32:00Z; not more than an hour ahead."
    )
    contact_email = serializers.EmailField(max_length=254, required=False, allow_null=True, allow_blank=True)

    def validate_occurred_at(self, value: str) -> dt.datetime:
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
        if parsed is None:
            raise serializers.ValidationError("not an ISO 8601 date and time")
        if timezone.is_naive(parsed):
            raise serializers.ValidationError("needs a time zone (e.g. 'Z' or '+02:00')")
        if parsed > timezone.now() + EVENT_FUTURE_TOLERANCE:
            raise serializers.ValidationError("is in the future")
        oldest = max(EVENT_OLDEST, events_kept_since(now=timezone.now()) or EVENT_OLDEST)
        if parsed < oldest:  # or before the months of raw events the retention keeps (EVENTS_RETENTION_MONTHS)
            raise serializers.ValidationError(f"is before {oldest.date().isoformat()}")
        return parsed

    def validate_contact_email(self, value: str | None) -> str | None:
        return value.strip().lower() if value else None


class EventsRequestSerializer(serializers.Serializer):
    events = serializers.ListField(
        child=serializers.DictField(),
        allow_empty=False,
        help_text=f"1 to {EVENTS_MAX} events.",
    )

    def validate_events(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(value) > EVENTS_MAX:
            raise serializers.ValidationError(
                f"at most {EVENTS_MAX} events per request, got {len(value)}; split the batch",
                code="batch_too_large",
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        items = EventSerializer(data=attrs["events"], many=True)
        if not items.is_valid():
            errors = items.errors
            pairs = errors.items() if isinstance(errors, dict) else enumerate(errors)
            raise serializers.ValidationError({"events": {str(i): err for i, err in pairs if err}})
        return {"events": items.validated_data}


class EventsIngestSerializer(serializers.Serializer):
    """The body of ``POST events/``: 1 to 1,000 events, all or nothing."""

    events = EventSerializer(many=True, help_text=f"1 to {EVENTS_MAX} events.")


