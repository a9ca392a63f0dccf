"""Racing producers: six connections loading, moving and deleting events of
the same customers and days at once, each statement its own transaction and
meeting the keys in its own order: none deadlocks or fails on the rollup, and
the rollup ends exact (customers/migrations/0004: key-ordered locking)."""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections import Counter

import psycopg
import pytest
from django.db import connection

from customers.models import EngagementDaily, EngagementEvent
from tests.customers.factories import CustomerFactory

T0 = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
KEYS = [(kind, feature) for kind in ("login", "feature_use", "api_call") for feature in ("", "reports", "tasks")]


@pytest.mark.django_db(transaction=True)
def test_parallel_bulk_loads_of_the_same_keys_neither_deadlock_nor_drift():
    customers = [CustomerFactory().pk for _ in range(4)]
    s = connection.settings_dict
    errors: list[Exception] = []
    start = threading.Barrier(6)

    def producer(seed: int) -> None:
        """Each statement is its own transaction, as a pipeline or another
        service loading batches would send them."""
        rng = random.Random(seed)
        try:
            with psycopg.connect(dbname=s["NAME"], user=s["USER"], host=s["HOST"], port=s["PORT"], autocommit=True) as conn:
                start.wait()
                for _round in range(12):
                    rows = [(pk, kind, feature, T0 - dt.timedelta(days=day, minutes=rng.randrange(600)))
                            for pk in customers for kind, feature in KEYS for day in range(5)]  # fmt: skip
                    rng.shuffle(rows)  # each producer meets the keys in another order
                    ids = [row[0] for row in conn.execute(
                        "INSERT INTO customers_engagementevent (customer_id, kind, feature, occurred_at)"
                        " SELECT * FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::timestamptz[]) RETURNING id",
                        [list(col) for col in zip(*rows, strict=True)],
                    )]  # fmt: skip
                    # it corrects and deletes some of its own events (other rows' locks are the writers' affair)
                    moved, deleted = sorted(rng.sample(ids, 30)), sorted(rng.sample(ids, 20))
                    conn.execute(
                        "UPDATE customers_engagementevent SET occurred_at = occurred_at - interval '1 day', kind = 'error'"
                        " WHERE id = ANY(%s)",
                        (moved,),
                    )
                    conn.execute("DELETE FROM customers_engagementevent WHERE id = ANY(%s)", (deleted,))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=producer, args=(seed,)) for seed in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors[:3]
    rows = EngagementDaily.objects.values_list("customer_id", "day", "kind", "feature", "count")
    rollup = Counter({(c, d, k, f): n for c, d, k, f, n in rows})
    events = EngagementEvent.objects.values_list("customer_id", "occurred_at", "kind", "feature")
    assert rollup == Counter((c, t.astimezone(dt.UTC).date(), k, f) for c, t, k, f in events)
