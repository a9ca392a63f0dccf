"""The xl run's comparison reads the other data set's state without touching it."""

from __future__ import annotations

import pytest
from django.db import connection

from bench.compare import database_state
from bench.datagen import SCALES

pytestmark = pytest.mark.django_db


def _url(name: str) -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def test_an_absent_database_is_reported_not_created():
    assert database_state(_url("enrichment_bench_surely_absent"), SCALES["full"]) == "absent"


def test_a_data_set_of_another_size_is_left_alone():
    state = database_state(_url(connection.settings_dict["NAME"]), SCALES["full"])
    assert state.startswith("another size: 0 customers")
