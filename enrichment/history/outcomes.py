"""Outcomes of conversations, as agents report them (over MCP today; REST and
the strategy experiments build on the same service)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from enrichment.history.models import ConversationOutcome


class InvalidOutcome(ValueError):
    """An outcome that cannot be recorded as given (the message says why)."""


@dataclass(frozen=True, slots=True)
class OutcomeRecorded:
    key: str
    created: bool  # False: the key was recorded before; nothing changed


def _check_scale(name: str, value: int | None) -> None:
    if value is not None and not 1 <= value <= 5:
        raise InvalidOutcome(f"{name} must be between 1 and 5")


@transaction.atomic
def outcome_record(
    *,
    key: str,
    customer_external_id: str,
    ticket_id: int | None = None,
    context_id: str = "",
    experiment_id: int | None = None,
    strategy: str = "",
    unit_key: str = "",
    resolved: bool | None = None,
    escalated: bool | None = None,
    reopened: bool | None = None,
    csat: int | None = None,
    handle_time_seconds: int | None = None,
    context_rating: int | None = None,
    note: str = "",
    recorded_by: str = "",
) -> OutcomeRecorded:
    """Record how a conversation ended, once per ``key``: a second call with
    the same key changes nothing and says so (``created`` False), so callers
    can retry safely."""
    key = key.strip()
    if not 1 <= len(key) <= 100:
        raise InvalidOutcome("key must be 1-100 characters")
    _check_scale("csat", csat)
    _check_scale("context_rating", context_rating)
    if handle_time_seconds is not None and not 0 <= handle_time_seconds <= 30 * 86400:
        raise InvalidOutcome("handle_time_seconds must be between 0 and 30 days")
    if len(note) > 1000:
        raise InvalidOutcome("note must be at most 1,000 characters")
    fields = {
        "customer_external_id": customer_external_id,
        "ticket_id": ticket_id,
        "context_id": context_id[:255],
        "experiment_id": experiment_id,
        "strategy": strategy[:60],
        "unit_key": unit_key[:300],
        "resolved": resolved,
        "escalated": escalated,
        "reopened": reopened,
        "csat": csat,
        "handle_time_seconds": handle_time_seconds,
        "context_rating": context_rating,
        "note": note,
        "recorded_by": recorded_by[:100],
    }
    try:
        with transaction.atomic():
            _outcome, created = ConversationOutcome.objects.get_or_create(key=key, defaults=fields)
    except IntegrityError:  # a concurrent call with the same key won the insert
        created = False
    return OutcomeRecorded(key=key, created=created)
