"""POST /api/v1/contexts/batch/"""

from __future__ import annotations

import pytest

from tests.enrichment.api.helpers import ACME, assert_error

pytestmark = pytest.mark.django_db

URL = "/api/v1/contexts/batch/"


def test_partial_failure_never_fails_the_batch(demo, api):
    ids = [ACME, "ghost_customer", "../etc", 42, None, {"x": 1}, "customer_trial", ACME, "a" * 65]
    response = api.post(URL, {"customer_ids": ids}, format="json")
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["customer_id"] for r in results] == [ACME, "ghost_customer", "../etc", 42, None, {"x": 1}, "customer_trial", "a" * 65]
    by_status = [r["status"] for r in results]
    assert by_status == ["ok", "not_found", "invalid", "invalid", "invalid", "invalid", "ok", "invalid"]
    for item in results:
        assert set(item) == {"customer_id", "status", "context", "error"}
        if item["status"] == "ok":
            assert item["error"] is None
            assert item["context"]["customer_id"] == item["customer_id"]
            assert item["context"]["prompt"].startswith("<customer_context>")
        else:
            assert item["context"] is None
            assert set(item["error"]) == {"code", "message", "details"}
    assert results[1]["error"]["code"] == "customer_not_found"
    assert results[2]["error"]["code"] == "invalid_customer_id"


def test_duplicates_are_answered_once(demo, api):
    results = api.post(URL, {"customer_ids": [ACME, ACME, ACME]}, format="json").json()["results"]
    assert len(results) == 1 and results[0]["status"] == "ok"


def test_exactly_100_is_fine_101_is_too_large(demo, api):
    ids = [f"missing_{i}" for i in range(100)]
    response = api.post(URL, {"customer_ids": ids}, format="json")
    assert response.status_code == 200 and len(response.json()["results"]) == 100
    error = assert_error(api.post(URL, {"customer_ids": [*ids, ACME]}, format="json"), 400, "batch_too_large")
    assert "100" in error["message"] and "101" in error["message"]


@pytest.mark.parametrize(
    "body",
    [{}, {"customer_ids": []}, {"customer_ids": "customer_123"}, {"customer_ids": None}, [ACME]],
)
def test_invalid_bodies(demo, api, body):
    assert_error(api.post(URL, body, format="json"), 400, "invalid_request")


def test_malformed_json_and_wrong_media_type(demo, api):
    assert_error(api.post(URL, data=b"{not json", content_type="application/json"), 400, "parse_error")
    assert_error(
        api.post(URL, data="customer_ids=customer_123", content_type="application/x-www-form-urlencoded"), 415, "unsupported_media_type"
    )


def test_deeply_nested_json_is_a_parse_error(demo, api):
    body = b"[" * 200_000 + b"]" * 200_000
    assert_error(api.post(URL, data=body, content_type="application/json"), 400, "parse_error")


def test_body_too_large(demo, api, settings):
    settings.API_MAX_BODY_BYTES = 1000
    big = {"customer_ids": ["x" * 60] * 50}
    assert_error(api.post(URL, big, format="json"), 413, "request_too_large")


def test_get_is_not_allowed(demo, api):
    response = api.get(URL)
    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response["Allow"]


def test_a_batch_is_computed_together_not_one_by_one(db, api):
    """The endpoint goes through the engine's one path: the same statements for
    2 customers or 12 (one lookup, each provider once, one health write)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from enrichment.experiments.selectors import experiments_running
    from tests.enrichment.engine.test_batch import make_customers

    small, large = make_customers(2, "bs"), make_customers(12, "bl")
    experiments_running()  # the running experiments are read once per EXPERIMENTS_REFRESH_SECONDS, not per batch
    counts = []
    for ids in (small, large):
        with CaptureQueriesContext(connection) as queries:
            response = api.post(URL, {"customer_ids": ids}, format="json")
        assert response.status_code == 200
        assert [r["status"] for r in response.json()["results"]] == ["ok"] * len(ids)
        counts.append(sum(1 for q in queries.captured_queries if "enrichment_apitoken" not in q["sql"]))
    assert counts[0] == counts[1]
