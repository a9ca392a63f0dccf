"""Racing producers through the ingestion service: eight threads, each with
its own database connection, send batches for the same customer and UTC day
at once, round after round. Some events are each producer's own, some are
sent by every producer (the same ``event_id``): no call fails, every event is
stored once, the rollup is exact, and the ``created`` counts add up to the
rows stored (the database decides, not a read before the write)."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest
from django.db import connection

from customers.models import EngagementDaily, EngagementEvent
from customers.services import EventInput, engagement_events_ingest
from tests.customers.factories import CustomerFactory

PRODUCERS = 8
ROUNDS = 12
OWN = 10  # events only this producer sends, per round
SHARED = 6  # events every producer sends, per round
DAY = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)


def batch(customer_id: str, round_no: int, producer: int) -> list[EventInput]:
    def event(event_id: str, n: int) -> EventInput:
        kind = ("login", "feature_use", "api_call")[n % 3]
        return EventInput(event_id, customer_id, kind, DAY + dt.timedelta(minutes=n % 600), feature="reports" if n % 2 else "")

    own = [event(f"r{round_no}-p{producer}-{n}", n) for n in range(OWN)]
    shared = [event(f"r{round_no}-shared-{n}", n) for n in range(SHARED)]
    # each producer meets the shared ids in another order, repeated once inside its own batch
    order = shared[producer % SHARED :] + shared[: producer % SHARED]
    return own + order + order[:2]


@pytest.mark.django_db(transaction=True)
def test_eight_producers_for_one_customer_day_lose_nothing_and_count_exactly():
    customer = CustomerFactory(external_id="racing_customer")
    errors: list[BaseException] = []
    created: list[int] = []
    duplicates: list[int] = []
    lock = threading.Lock()

    def producer(number: int, barrier: threading.Barrier, round_no: int) -> None:
        try:
            barrier.wait(timeout=30)
            result = engagement_events_ingest(events=batch(customer.external_id, round_no, number))
            with lock:
                created.append(result.created)
                duplicates.append(result.duplicates)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    for round_no in range(ROUNDS):
        barrier = threading.Barrier(PRODUCERS)
        threads = [threading.Thread(target=producer, args=(n, barrier, round_no)) for n in range(PRODUCERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    assert errors == [], f"{len(errors)} producer calls failed: {errors[:3]}"
    expected_ids = {e.event_id for r in range(ROUNDS) for p in range(PRODUCERS) for e in batch(customer.external_id, r, p)}
    stored = list(EngagementEvent.objects.filter(customer=customer).values_list("event_id", flat=True))
    assert len(stored) == len(set(stored)) == len(expected_ids) == ROUNDS * (PRODUCERS * OWN + SHARED)
    assert set(stored) == expected_ids
    assert sum(created) == len(stored), "the `created` counts must add up to the rows stored"
    sent = ROUNDS * PRODUCERS * (OWN + SHARED + 2)
    assert sum(created) + sum(duplicates) == sent
    rollup = Counter(
        {(d, k, f): n for d, k, f, n in EngagementDaily.objects.filter(customer=customer).values_list("day", "kind", "feature", "count")}
    )
    events = EngagementEvent.objects.filter(customer=customer).values_list("occurred_at", "kind", "feature")
    assert rollup == Counter((t.astimezone(dt.UTC).date(), k, f) for t, k, f in events)
    assert sum(rollup.values()) == len(stored)
