"""Property: every engagement figure of a context equals a brute-force count
over the raw events, whoever wrote them (``bulk_create``, ``update()`` of
day/kind/feature, ``delete()``, one ``save()``, raw SQL from a second
connection), at any ``now``, including instants exactly 30 and 60 days
before it (``now - 30 days < t <= now``, see customers/windows.py)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from customers.models import EngagementEvent
from customers.selectors import customer_ref_get, engagement_windows
from enrichment.providers.base import ProviderRequest
from enrichment.providers.internal import EngagementMetricsProvider
from tests.customers.factories import CustomerFactory

DAY = dt.timedelta(days=1)
KINDS = ("login", "feature_use", "api_call", "error", "invite")
FEATURES = ("", "reports", "tasks", "exports", "not-in-catalogue")
BASE = dt.datetime(2026, 6, 15, tzinfo=dt.UTC)

# Offsets from `now`: the window edges exactly and a second either side, plus anywhere in 70 days.
EDGES = [k * DAY + s * dt.timedelta(seconds=1) for k in (0, -30, -60) for s in (-1, 0, 1)]
near_edge = st.tuples(st.sampled_from((0, -30, -60)), st.integers(-86400, 86400)).map(lambda e: e[0] * DAY + dt.timedelta(seconds=e[1]))
offsets = st.one_of(
    st.sampled_from(EDGES), near_edge, st.integers(-70 * 86400, 2 * 86400).map(lambda s: dt.timedelta(seconds=s))
)
event = st.tuples(offsets, st.sampled_from((*KINDS, "login", "login")), st.sampled_from(FEATURES))
subset = st.tuples(st.integers(2, 5), st.integers(0, 4))  # rows whose pk % m == r
operation = st.one_of(
    st.tuples(st.just("bulk_create"), st.lists(event, min_size=1, max_size=25)),
    st.tuples(st.just("raw_insert"), st.lists(event, min_size=1, max_size=25)),
    st.tuples(st.just("update_time"), subset, offsets),
    st.tuples(st.just("update_kind"), subset, st.sampled_from(KINDS)),
    st.tuples(st.just("update_feature"), subset, st.sampled_from(FEATURES)),
    st.tuples(st.just("raw_update_time"), subset, offsets),
    st.tuples(st.just("delete"), subset),
    st.tuples(st.just("raw_delete"), subset),
    st.tuples(st.just("save_time"), offsets),
)


def _other_connection() -> psycopg.Connection:
    s = connection.settings_dict
    return psycopg.connect(dbname=s["NAME"], user=s["USER"], host=s["HOST"], port=s["PORT"], autocommit=True)


def _apply(op, customer, now, other) -> None:
    name, *args = op
    mine = EngagementEvent.objects.filter(customer=customer)
    if name in ("update_time", "update_kind", "update_feature", "delete", "raw_update_time", "raw_delete"):
        (m, r), *args = args
        r %= m
        chosen = [pk for pk in mine.values_list("pk", flat=True) if pk % m == r]
        rows = mine.filter(pk__in=chosen)
    if name == "bulk_create":
        EngagementEvent.objects.bulk_create(
            [EngagementEvent(customer=customer, kind=k, feature=f, occurred_at=now + o) for o, k, f in args[0]]
        )
    elif name == "raw_insert":
        with other.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO customers_engagementevent (customer_id, kind, feature, occurred_at) VALUES (%s, %s, %s, %s)",
                [(customer.pk, k, f, now + o) for o, k, f in args[0]],
            )
    elif name == "update_time":
        rows.update(occurred_at=now + args[0])
    elif name == "update_kind":
        rows.update(kind=args[0])
    elif name == "update_feature":
        rows.update(feature=args[0])
    elif name == "delete":
        rows.delete()
    elif name == "raw_update_time":
        other.execute("UPDATE customers_engagementevent SET occurred_at = %s WHERE id = ANY(%s)", (now + args[0], chosen))
    elif name == "raw_delete":
        other.execute("DELETE FROM customers_engagementevent WHERE id = ANY(%s)", (chosen,))
    elif name == "save_time":
        one = mine.order_by("pk").first()
        if one is not None:
            one.occurred_at = now + args[0]
            one.save()


def _brute_force(customer, now: dt.datetime) -> dict:
    rows = list(EngagementEvent.objects.filter(customer=customer).values_list("occurred_at", "kind", "feature"))
    current = [(t, k, f) for t, k, f in rows if now - 30 * DAY < t <= now]
    previous = [(t, k, f) for t, k, f in rows if now - 60 * DAY < t <= now - 30 * DAY]
    logins, logins_prev = sum(k == "login" for _t, k, _f in current), sum(k == "login" for _t, k, _f in previous)
    usage = Counter(f for _t, k, f in current if k == "feature_use" and f)
    ranked = sorted(usage.items(), key=lambda item: (-item[1], item[0]))
    login_days = Counter(t.astimezone(dt.UTC).date() for t, k, _f in current if k == "login")
    today = now.date()
    catalogue = set(settings.ENRICHMENT_PRODUCT_FEATURES)
    return {
        "login_count_30d": logins,
        "login_count_prev_30d": logins_prev,
        "login_trend_pct": round((logins - logins_prev) / logins_prev * 100, 1) if logins_prev else None,
        "last_login_at": max((t for t, k, _f in rows if k == "login" and t <= now), default=None),
        "active_days_30d": len(login_days),
        "daily_logins_30d": tuple(login_days.get(today - d * DAY, 0) for d in range(29, -1, -1)),
        "feature_usage_30d": [(f, n) for f, n in ranked[:10]],
        "most_used_features": tuple(f for f, _n in ranked[:3]),
        "features_used_30d": len(usage),
        "feature_adoption_score": round(len(set(usage) & catalogue) / len(catalogue), 3),
        "api_calls_30d": sum(k == "api_call" for _t, k, _f in current),
        "errors_30d": sum(k == "error" for _t, k, _f in current),
    }


def _windows_brute_force(customer, now: dt.datetime) -> tuple[Counter, Counter]:
    rows = list(EngagementEvent.objects.filter(customer=customer).values_list("occurred_at", "kind", "feature"))
    current = Counter((k, f) for t, k, f in rows if now - 30 * DAY < t <= now)
    previous = Counter((k, f) for t, k, f in rows if now - 60 * DAY < t <= now - 30 * DAY)
    return current, previous


def _from_context(customer, now: dt.datetime) -> dict:
    ref = customer_ref_get(external_id=customer.external_id)
    section = EngagementMetricsProvider().fetch_many([ProviderRequest(customer=ref, now=now)], sections={})[customer.pk]
    figures = {key: getattr(section, key) for key in EXPECTED_KEYS}
    figures["feature_usage_30d"] = [(u.feature, u.count) for u in section.feature_usage_30d]
    return figures


EXPECTED_KEYS = (
    "login_count_30d", "login_count_prev_30d", "login_trend_pct", "last_login_at", "active_days_30d", "daily_logins_30d",
    "feature_usage_30d", "most_used_features", "features_used_30d", "feature_adoption_score", "api_calls_30d", "errors_30d",
)  # fmt: skip


@pytest.mark.django_db(transaction=True)
@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    ops=st.lists(operation, min_size=1, max_size=8),
    # any hour of the day, evenly (the edges are corrected differently in each half of it)
    now_offset=st.tuples(st.integers(0, 2), st.sampled_from(range(24)), st.integers(0, 3_599_999)).map(
        lambda d: d[0] * DAY + dt.timedelta(hours=d[1], milliseconds=d[2])
    ),
    later=st.sampled_from([dt.timedelta(0), dt.timedelta(seconds=1), dt.timedelta(hours=7), -dt.timedelta(seconds=1)]),
)
def test_every_engagement_figure_equals_a_brute_force_count(ops, now_offset, later):
    customer = CustomerFactory()
    now = BASE + now_offset
    with _other_connection() as other:
        for op in ops:
            _apply(op, customer, now, other)
    asked_at = now + later  # the context is also asked for a moment later or earlier
    window = engagement_windows(customer_pks=[customer.pk], now=asked_at)[customer.pk]
    assert (Counter(window.current), Counter(window.previous)) == _windows_brute_force(customer, asked_at)
    assert _from_context(customer, asked_at) == _brute_force(customer, asked_at)
