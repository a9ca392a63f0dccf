"""Input validation and (for the OpenAPI schema) output serializers.

Input serializers validate query strings and bodies. Output serializers are
never used to build responses (the context service's dataclasses render
themselves); they describe them for drf-spectacular, and are generated from
the dataclasses in :mod:`enrichment.context` so the documentation cannot drift
from the JSON. Fields a customer-facing token never sees are optional there.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
import typing
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from customers.models import EXTERNAL_ID_PATTERN, EngagementKind
from enrichment.context import sections as ctx
from enrichment.context.enriched import SECTION_TYPES
from enrichment.rendering.redaction import hidden_key

SECTION_NAMES: tuple[str, ...] = tuple(SECTION_TYPES)
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


# --- query strings ---------------------------------------------------------------------


class RefreshQuerySerializer(serializers.Serializer):
    refresh = serializers.BooleanField(required=False, default=False, help_text="true: skip both cache tiers and recompute the context.")


class PromptQuerySerializer(RefreshQuerySerializer):
    max_chars = serializers.IntegerField(
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


class ContextQuerySerializer(PromptQuerySerializer):
    agent = serializers.CharField(required=False, max_length=150, validators=[_no_control_chars], help_text=AGENT_HELP)
    sections = serializers.CharField(
        required=False,
        max_length=500,
        help_text=(
            "Comma-separated sections to include in the JSON, from: "
            f"{', '.join(SECTION_NAMES)}. Default: all. The `prompt` field is always the whole block."
        ),
    )

    def validate_sections(self, value: str) -> tuple[str, ...]:
        names = [name.strip() for name in value.split(",") if name.strip()]
        if not names:
            raise serializers.ValidationError(f"give at least one section; valid sections: {', '.join(SECTION_NAMES)}")
        unknown = sorted({name for name in names if name not in SECTION_TYPES})
        if unknown:
            raise serializers.ValidationError(f"unknown section(s): {', '.join(unknown)}; valid sections: {', '.join(SECTION_NAMES)}")
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
    limit = serializers.IntegerField(
        required=False, min_value=1, max_value=PAGE_SIZE_MAX, default=PAGE_SIZE_DEFAULT, help_text="Page size."
    )
    offset = serializers.IntegerField(required=False, min_value=0, max_value=OFFSET_MAX, default=0)


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
        allow_empty=False,
        help_text=f"1 to {BATCH_MAX_CUSTOMERS} customer external ids; duplicates are answered once.",
    )

    def validate_customer_ids(self, value: list[Any]) -> list[Any]:
        if len(value) > BATCH_MAX_CUSTOMERS:
            raise serializers.ValidationError(
                f"at most {BATCH_MAX_CUSTOMERS} customer ids per batch, got {len(value)}; split the request",
                code="batch_too_large",
            )
        return value


@extend_schema_field({"type": "string", "format": "date-time"})
class AwareDateTimeField(serializers.CharField):
    """An ISO 8601 date-time string; the offset is required (checked by the serializer)."""


class EventSerializer(serializers.Serializer):
    event_id = serializers.CharField(
        max_length=100, validators=[_no_control_chars], help_text="Your id for the event; makes ingestion idempotent."
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
        if parsed < EVENT_OLDEST:
            raise serializers.ValidationError(f"is before {EVENT_OLDEST.date().isoformat()}")
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


# --- responses (documentation) ---------------------------------------------------------------


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, for programs: e.g. customer_not_found, invalid_parameter.")
    message = serializers.CharField(help_text="For people.")
    details = serializers.JSONField(allow_null=True, help_text="null, or an object with more detail.")


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


def _field_for(tp: Any, *, name: str, required: bool = True, allow_null: bool = False) -> serializers.Field:
    kwargs: dict[str, Any] = {"required": required}
    if allow_null:
        kwargs["allow_null"] = True
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(tp) if arg is not type(None)]
        if len(args) == 1:
            return _field_for(args[0], name=name, required=required, allow_null=True)
        return serializers.JSONField(allow_null=True, required=required)
    if origin is tuple:
        return serializers.ListField(child=_field_for(typing.get_args(tp)[0], name=name), **kwargs)
    if origin is dict:
        return serializers.DictField(child=_field_for(typing.get_args(tp)[1], name=name), **kwargs)
    if dataclasses.is_dataclass(tp):
        return dataclass_serializer(tp)(**kwargs)
    simple = {
        str: serializers.CharField,
        bool: serializers.BooleanField,
        int: serializers.IntegerField,
        float: serializers.FloatField,
        dt.datetime: serializers.DateTimeField,
        dt.date: serializers.DateField,
    }
    if tp is Decimal:
        return serializers.DecimalField(max_digits=None, decimal_places=2, coerce_to_string=True, **kwargs)
    if tp in simple:
        return simple[tp](**kwargs)
    return serializers.JSONField(**kwargs)


_GENERATED: dict[tuple[type, frozenset[str]], type[serializers.Serializer]] = {}


def dataclass_serializer(cls: type, *, exclude: frozenset[str] = frozenset()) -> type[serializers.Serializer]:
    """A serializer class mirroring a context dataclass, for the schema only."""
    cache_key = (cls, exclude)
    if cache_key in _GENERATED:
        return _GENERATED[cache_key]
    hints = typing.get_type_hints(cls)
    attrs: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        if field.name in exclude:
            continue
        attrs[field.name] = _field_for(hints[field.name], name=field.name, required=not hidden_key(field.name))
    name = cls.__name__ + ("Public" if exclude else "")
    doc = (cls.__doc__ or "").strip()
    if doc.startswith(f"{cls.__name__}("):  # the signature dataclasses write when there is no docstring
        doc = ""
    serializer = type(name, (serializers.Serializer,), {**attrs, "__doc__": doc or None})
    _GENERATED[cache_key] = serializer
    return serializer


def _section(cls: type, **kwargs: Any) -> serializers.Serializer:
    return dataclass_serializer(cls, **kwargs)(required=False)


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
    """The enriched context: the seed's sections and fields, plus
    ``health_breakdown``, ``flags``, ``sources`` and ``degraded``, plus the
    ready ``prompt`` block. With ``?sections=`` only those sections are present.
    A ``customer_facing`` token never gets ``mrr``, ``churn_risk``,
    ``churn_risk_level`` or ``health_breakdown``."""

    customer_id = serializers.CharField()
    customer_intelligence = _section(ctx.CustomerIntelligence)
    engagement_metrics = _section(ctx.EngagementMetrics)
    support_history = _section(ctx.SupportHistory)
    subscription_details = _section(ctx.SubscriptionDetails)
    account_health = _section(ctx.AccountHealth, exclude=frozenset({"breakdown", "flags"}))
    company_enrichment = dataclass_serializer(ctx.CompanyEnrichment)(required=False, allow_null=True)
    product_status = _section(ctx.ProductStatus)
    current_activity = _section(ctx.CurrentActivity)
    agent_performance = AgentPerformanceSerializer(
        required=False, help_text="Absent for a `customer_facing` token. `agent` only with the `agent` parameter."
    )
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


class SummarySerializer(serializers.Serializer):
    """Exactly the seed's summary keys; ``churn_risk`` and ``churn_risk_level``
    are absent for a ``customer_facing`` token."""

    company_name = serializers.CharField()
    plan = serializers.CharField()
    health_score = serializers.IntegerField()
    churn_risk = serializers.FloatField(required=False)
    churn_risk_level = serializers.CharField(required=False)
    login_count_30d = serializers.IntegerField()
    open_tickets = serializers.IntegerField()
    days_to_renewal = serializers.IntegerField(allow_null=True)
    has_critical_issues = serializers.BooleanField()
    has_opportunities = serializers.BooleanField()
    cache_hit = serializers.BooleanField()


class BatchItemSerializer(serializers.Serializer):
    customer_id = serializers.JSONField(help_text="The id as it was sent.")
    status = serializers.ChoiceField(choices=["ok", "not_found", "invalid"])
    context = ContextSerializer(allow_null=True)
    error = ErrorDetailSerializer(allow_null=True)


class BatchResponseSerializer(serializers.Serializer):
    results = BatchItemSerializer(many=True)


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


class HealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "error"])
    database = serializers.CharField()
    cache = serializers.CharField()


def throttle_rate_description() -> str:
    return str(getattr(settings, "API_THROTTLE_RATE", "") or "off")


# "from" is a Python keyword: these two are built with type().
ChangeDeltaSerializer = type(
    "ChangeDeltaSerializer",
    (serializers.Serializer,),
    {
        "from": serializers.FloatField(allow_null=True),
        "to": serializers.FloatField(allow_null=True),
        "delta": serializers.FloatField(),
        "__doc__": "A value then and now.",
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
    id = serializers.CharField()
    title = serializers.CharField()


class NewTicketSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    subject = serializers.CharField()
    status = serializers.CharField()
    priority = serializers.CharField()
    created_at = serializers.DateTimeField()


class TimelineEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField(allow_null=True)
    health_score = serializers.IntegerField(allow_null=True)
    health_label = serializers.CharField(allow_null=True)
    changes = serializers.ListField(child=serializers.CharField())


class ChangesSerializer(serializers.Serializer):
    """What changed for a customer since a moment or since their previous
    ticket. ``health_score`` and ``churn_risk`` are null when no snapshot
    exists yet; ``churn_risk`` is absent for a ``customer_facing`` token."""

    customer_id = serializers.CharField()
    since = serializers.DateTimeField(allow_null=True, help_text="The moment compared with (null: no previous contact).")
    since_last_contact = serializers.BooleanField()
    last_contact_at = serializers.DateTimeField(allow_null=True, help_text="The previous ticket's creation (since_last_contact).")
    baseline_at = serializers.DateTimeField(allow_null=True, help_text="When the snapshot compared with was taken.")
    current_at = serializers.DateTimeField(allow_null=True)
    changed = serializers.BooleanField()
    health_score = ChangeDeltaSerializer(allow_null=True)
    churn_risk = ChangeDeltaSerializer(allow_null=True, required=False)
    flags_raised = FlagRaisedSerializer(many=True)
    flags_cleared = _FlagChangeSerializer(many=True)
    account_changes = AccountChangeSerializer(many=True)
    new_tickets = NewTicketSerializer(many=True)
    new_incidents = IncidentRefSerializer(many=True)
    resolved_incidents = IncidentRefSerializer(many=True)
    timeline = TimelineEntrySerializer(many=True, help_text="The snapshots in between, oldest first, with what each changed.")
    summary = serializers.ListField(child=serializers.CharField(), help_text="One line per change, as in the prompt.")
