"""Reads the API needs beyond the context service."""

from __future__ import annotations

from django.db.models import F, OuterRef, QuerySet, Subquery

from billing.models import LIVE_STATUSES, Subscription
from customers.selectors import customer_ref_get, customer_search
from enrichment.api.models import ApiToken


def customer_directory(*, search: str = "") -> QuerySet:
    """Customers matching ``search`` (see ``customers.selectors.customer_search``)
    as plain rows with their live plan and last computed health, in one query
    per page (a subquery for the plan, a LEFT JOIN for the health)."""
    live_plan = (
        Subscription.objects.filter(customer_id=OuterRef("pk"), status__in=LIVE_STATUSES)
        .order_by("-started_at", "-pk")
        .values("plan__code")[:1]
    )
    return (
        customer_search(query=search)
        .order_by("company_name", "pk")
        .values("external_id", "company_name", "domain", "industry", "region")
        .annotate(
            plan=Subquery(live_plan),
            health_score=F("health__health_score"),
            health_label=F("health__health_label"),
        )
    )


def customer_exists(*, customer_id: str) -> bool:
    return customer_ref_get(external_id=customer_id) is not None


def api_token_by_prefix(*, prefix: str) -> ApiToken | None:
    """The token with this prefix (the part after ``cce_``), revoked or not."""
    return ApiToken.objects.filter(prefix=prefix).first()


def api_token_by_name(*, name: str) -> ApiToken | None:
    return ApiToken.objects.filter(name=name).first()


def api_tokens_list(*, include_revoked: bool = False) -> QuerySet:
    """Tokens by name, active ones only unless ``include_revoked``."""
    tokens = ApiToken.objects.order_by("name")
    return tokens if include_revoked else tokens.filter(revoked_at__isnull=True)
