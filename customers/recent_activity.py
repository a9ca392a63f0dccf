"""The last minutes of each customer's product events, for the real-time context.

With ``REDIS_URL`` set, the ingestion path (:func:`customers.services.engagement_events_ingest`)
records every new event, after its transaction commits, in one Redis sorted set
per customer (score = the event's time). Each write trims the set to the
retention window (``CURRENT_ACTIVITY_WINDOW_MINUTES`` plus a minute) and to the
newest ``CURRENT_ACTIVITY_MAX_EVENTS`` members and renews the key's expiry, so
a set never holds more than that, however busy the customer: reading it is one
``ZRANGEBYSCORE`` round trip of at most that many members.

Without Redis (or when Redis fails) :func:`recent_events` falls back to one
bounded query on the events table: the ``(customer, occurred_at)`` index read
as one short range (the last minutes only, in the latest monthly partitions,
never the customer's whole history), the known kinds only, and ``LIMIT`` caps the rows.

Only events that come through the ingestion path are in Redis. Events written
another way (the demo seed, an ORM ``save``) are seen by the fallback query only.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import structlog
from django.conf import settings
from django_redis import get_redis_connection

from customers.models import EngagementEvent, EngagementKind

logger = structlog.get_logger(__name__)

KEY_PREFIX = "cce:rt:events:"


@dataclass(frozen=True, slots=True)
class RecentEvent:
    customer_pk: int
    kind: str
    feature: str
    contact_pk: int | None
    occurred_at: dt.datetime
    event_id: str = ""


def window() -> dt.timedelta:
    return dt.timedelta(minutes=settings.CURRENT_ACTIVITY_WINDOW_MINUTES)


def _retention_seconds() -> int:
    return int(window().total_seconds()) + 60


def redis_client():
    """The default cache's Redis client, or ``None`` without Redis."""
    if not getattr(settings, "REDIS_URL", None):
        return None
    try:
        return get_redis_connection("default")
    except Exception:  # noqa: BLE001 - not a django-redis cache: no real-time store
        return None


def _key(customer_pk: int) -> str:
    return f"{KEY_PREFIX}{customer_pk}"


def _member(event: RecentEvent) -> str:
    # JSON keeps any feature name or event id unambiguous; the event id makes
    # two identical events two members.
    return json.dumps([event.kind, event.contact_pk, event.feature, event.event_id], separators=(",", ":"))


def recent_events_record(*, events: Iterable[RecentEvent], now: dt.datetime | None = None) -> int:
    """Add events to their customers' sorted sets in one pipelined round trip,
    trimming each set. Events older than the retention window are skipped.
    Returns how many were written (0 without Redis). Never raises."""
    client = redis_client()
    if client is None:
        return 0
    now = now or dt.datetime.now(dt.UTC)
    horizon = now.timestamp() - _retention_seconds()
    by_customer: dict[int, dict[str, float]] = {}
    for event in events:
        score = event.occurred_at.timestamp()
        if score < horizon:
            continue
        by_customer.setdefault(event.customer_pk, {})[_member(event)] = score
    if not by_customer:
        return 0
    keep = settings.CURRENT_ACTIVITY_MAX_EVENTS
    try:
        pipe = client.pipeline(transaction=False)
        for customer_pk, members in by_customer.items():
            key = _key(customer_pk)
            pipe.zadd(key, members)
            pipe.zremrangebyscore(key, "-inf", f"({horizon}")
            pipe.zremrangebyrank(key, 0, -(keep + 1))
            pipe.expire(key, _retention_seconds())
        pipe.execute()
    except Exception as exc:  # noqa: BLE001 - the events are stored; only the live view misses them
        logger.warning("recent_events_record_failed", error=type(exc).__name__)
        return 0
    return sum(len(m) for m in by_customer.values())


def _from_redis(client, customer_pks: Sequence[int], since: dt.datetime) -> dict[int, list[RecentEvent]]:
    pipe = client.pipeline(transaction=False)
    for pk in customer_pks:
        pipe.zrangebyscore(_key(pk), since.timestamp(), "+inf", withscores=True)
    found: dict[int, list[RecentEvent]] = {}
    for pk, rows in zip(customer_pks, pipe.execute(), strict=True):
        events = found[pk] = []
        for member, score in rows:
            kind, contact_pk, feature, event_id = json.loads(member)
            events.append(RecentEvent(pk, kind, feature, contact_pk, dt.datetime.fromtimestamp(score, dt.UTC), event_id))
    return found


def _from_database(customer_pks: Sequence[int], since: dt.datetime, limit: int) -> dict[int, list[RecentEvent]]:
    rows = (
        EngagementEvent.objects.filter(customer_id__in=list(customer_pks), kind__in=EngagementKind.values, occurred_at__gte=since)
        .order_by("-occurred_at")
        .values_list("customer_id", "kind", "feature", "contact_id", "occurred_at")[: limit * len(customer_pks)]
    )
    found: dict[int, list[RecentEvent]] = {pk: [] for pk in customer_pks}
    for customer_pk, kind, feature, contact, at in rows:
        found[customer_pk].append(RecentEvent(customer_pk, kind, feature, contact, at))
    return found


def recent_events(*, customer_pks: Sequence[int], now: dt.datetime) -> tuple[dict[int, list[RecentEvent]], str]:
    """Each customer's events in the window ending at ``now`` (one Redis
    round trip, or one bounded query, for all of them) and where they came
    from (``redis`` or ``database``)."""
    since = now - window()
    client = redis_client()
    if client is not None:
        try:
            return _from_redis(client, customer_pks, since), "redis"
        except Exception as exc:  # noqa: BLE001 - Redis down: the bounded query answers
            logger.warning("recent_events_redis_failed", error=type(exc).__name__)
    return _from_database(customer_pks, since, settings.CURRENT_ACTIVITY_MAX_EVENTS), "database"


def recent_events_clear(customer_pks: Sequence[int]) -> None:
    """Drop customers' live event sets (tests, or after deleting a customer)."""
    client = redis_client()
    if client is not None and customer_pks:
        client.delete(*[_key(pk) for pk in customer_pks])
