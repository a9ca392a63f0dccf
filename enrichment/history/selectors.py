"""Reads of the context history: the stored snapshots of a customer.

The diffing over them is pure and lives in :mod:`enrichment.history.snapshots`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from customers.models import Customer
from enrichment.history.models import ContextSnapshot

_FIELDS = ("created_at", "content_hash", "data")


def context_snapshot_rows(*, customer_pk: int, since: dt.datetime | None, limit: int) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """(the snapshot in force at ``since``, the snapshots after it, oldest
    first). The one in force is the latest at or before ``since``, else the
    first one after it; without ``since``, the first one. At most ``limit``
    rows are read after ``since`` (or from the start). Rows are dicts of
    ``created_at``, ``content_hash`` and ``data``."""
    rows = ContextSnapshot.objects.filter(customer_id=customer_pk)
    if since is None:
        later = list(rows.order_by("created_at", "id").values(*_FIELDS)[:limit])
        return (later[0] if later else None), later[1:]
    base = rows.filter(created_at__lte=since).order_by("-created_at", "-id").values(*_FIELDS).first()
    later = list(rows.filter(created_at__gt=since).order_by("created_at", "id").values(*_FIELDS)[:limit])
    if base is None and later:
        base, later = later[0], later[1:]
    return base, later


def context_snapshots_latest(*, customer_pk: int, limit: int) -> list[dict[str, Any]]:
    """At most ``limit`` snapshots, newest first (``created_at``, ``data``). One query."""
    return list(ContextSnapshot.objects.filter(customer_id=customer_pk).order_by("-created_at", "-id").values("created_at", "data")[:limit])


def context_snapshot_pairs(
    *, customer_pks: list[int], since: dt.datetime, until: dt.datetime
) -> dict[int, tuple[dict[str, Any] | None, dict[str, Any] | None]]:
    """For each customer, the data of (the snapshot in force at ``since``, the
    one in force at ``until``). The first is the latest at or before ``since``,
    else the first one after it (up to ``until``); it is ``None`` when that is
    the same snapshot as the second (nothing stored changed in between), and
    both are ``None`` without any snapshot up to ``until``. Two queries."""
    snapshots = ContextSnapshot.objects.filter(customer_id=OuterRef("pk"))
    at_since = snapshots.filter(created_at__lte=since).order_by("-created_at", "-id").values("id")[:1]
    first_after = snapshots.filter(created_at__gt=since, created_at__lte=until).order_by("created_at", "id").values("id")[:1]
    at_until = snapshots.filter(created_at__lte=until).order_by("-created_at", "-id").values("id")[:1]
    rows = list(
        Customer.objects.filter(pk__in=customer_pks)
        .annotate(before_id=Coalesce(Subquery(at_since), Subquery(first_after)), after_id=Subquery(at_until))
        .values_list("pk", "before_id", "after_id")
    )
    ids = {snapshot_id for _pk, *pair in rows for snapshot_id in pair if snapshot_id is not None}
    data = dict(ContextSnapshot.objects.filter(id__in=ids).values_list("id", "data")) if ids else {}
    return {pk: (None if before == after else data.get(before), data.get(after)) for pk, before, after in rows}


def customer_external_ids_for_refresh(*, stale_before: dt.datetime | None = None) -> list[str]:
    """Every customer's external id, ordered; with ``stale_before``, only those
    whose latest health was computed before it, or never (``refresh_contexts --stale``)."""
    customers = Customer.objects.order_by("pk")
    if stale_before is not None:
        customers = customers.filter(Q(health__isnull=True) | Q(health__computed_at__lt=stale_before))
    return list(customers.values_list("external_id", flat=True))


def customer_external_ids_known(*, external_ids: list[str]) -> list[str]:
    """The given ids that name a customer, in the order given."""
    known = set(Customer.objects.filter(external_id__in=external_ids).values_list("external_id", flat=True))
    return [external_id for external_id in external_ids if external_id in known]
