"""The xl scale's bulk load (bench/bulk.py) gives the data set the ordinary load
would: the rollup the triggers would have built, the same indexes, the same
rows; and a data set is reused only when its generation finished."""

from __future__ import annotations

import dataclasses

import pytest
from django.db import connection

from bench.bulk import LOADED_TABLES, bulk_load, rollup_check, secondary_indexes
from bench.datagen import STEPS, TRUNCATE, Scale, disk_usage, ensure_data, generation_record

pytestmark = pytest.mark.django_db(transaction=True)

PARAMS = {"customers": 40, "tickets": 120, "heavy_events": 900, "population_events": 3000}
ROLLUP = "SELECT customer_id, day, kind, feature, count FROM customers_engagementdaily"


def _rows(sql: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return sorted(cursor.fetchall())


def _execute(*statements: str) -> None:
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def _index_definitions() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = ANY(%s)", (list(LOADED_TABLES),))
        return {row[0] for row in cursor.fetchall()}


@pytest.fixture
def empty_data_set():
    _execute(TRUNCATE, "DROP TABLE IF EXISTS bench_generation")
    yield
    _execute("DROP TABLE IF EXISTS bench_generation")


def test_bulk_rollup_is_what_the_triggers_build(empty_data_set):
    indexes_before = _index_definitions()
    assert secondary_indexes(), "the loaded tables have secondary indexes to drop and rebuild"

    timings = bulk_load(STEPS, PARAMS, log=lambda _message: None)

    assert _index_definitions() == indexes_before
    assert set(timings["indexes"]) == {name for name, _ in secondary_indexes()}
    assert _rows("SELECT count(*) FROM customers_engagementevent") == [(PARAMS["population_events"] + PARAMS["heavy_events"] + 100,)]
    assert _rows("SELECT count(*) FROM customers_customerdatachange") == [(0,)], "change capture is not replayed"
    bulk_rollup = _rows(ROLLUP)
    assert sum(row[4] for row in bulk_rollup) == PARAMS["population_events"] + PARAMS["heavy_events"] + 100

    # Replay the same events through the triggers, in two statements (the upserts add up across statements).
    _execute(
        "CREATE TEMP TABLE replay AS SELECT * FROM customers_engagementevent",
        "TRUNCATE customers_engagementevent",  # its trigger empties the rollup
    )
    assert _rows(ROLLUP) == []
    _execute(
        "INSERT INTO customers_engagementevent SELECT * FROM replay WHERE id % 2 = 0",
        "INSERT INTO customers_engagementevent SELECT * FROM replay WHERE id % 2 = 1",
        "DROP TABLE replay",
    )
    assert _rows(ROLLUP) == bulk_rollup
    assert rollup_check(sample=10)["drift_keys"] == 0


def test_triggers_are_back_after_the_bulk_load(empty_data_set):
    bulk_load(STEPS, PARAMS, log=lambda _message: None)
    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        assert cursor.fetchone()[0] == "origin"
        cursor.execute("SELECT id FROM customers_customer WHERE external_id = 'bench_light'")
        light = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO customers_engagementevent (customer_id, kind, feature, occurred_at) VALUES (%s, 'login', '', now())", (light,)
        )
    assert _rows(f"SELECT sum(count) FROM customers_engagementdaily WHERE customer_id = {light}") == [(101,)]
    assert _rows("SELECT count(*) FROM customers_customerdatachange") == [(1,)]


def test_a_bulk_data_set_is_reused_only_with_its_generation_record(empty_data_set):
    scale = Scale("tiny", customers=40, events=4000, heavy_events=900, tickets=120, bulk=True)
    messages: list[str] = []

    ensure_data(scale, log=messages.append)

    record = generation_record("tiny")
    assert record["scale"] == dataclasses.asdict(scale)
    assert record["rollup_check"]["drift_keys"] == 0
    assert {"drop indexes", "events (population)", "rollup (one grouped statement)", "vacuum analyze"} <= set(record["steps_seconds"])
    assert record["rows"] == {"customers": 40, "events": 4000, "tickets": 120}
    messages.clear()
    ensure_data(scale, log=messages.append)
    assert messages[0].startswith("reusing the data set")

    _execute("DELETE FROM bench_generation")  # as if the generation had stopped before its end
    messages.clear()
    ensure_data(scale, log=messages.append)
    assert not messages[0].startswith("reusing"), messages
    assert generation_record("tiny") is not None


def test_disk_usage_names_the_largest_tables(empty_data_set):
    bulk_load(STEPS, PARAMS, log=lambda _message: None)
    usage = disk_usage(top=3)
    assert usage["disk_bytes"] > 0 and usage["disk_pretty"]
    assert "customers_engagementevent" in usage["disk_tables"]
    event_table = usage["disk_tables"]["customers_engagementevent"]
    assert event_table["total_bytes"] >= event_table["table_bytes"] + event_table["index_bytes"] > 0
