"""Under gunicorn with 2 workers (the repository's gunicorn.conf.py, production
settings): /metrics sums every worker's request counts (prometheus_client
multiprocess mode), and the access log is JSON through structlog with the
request id of each request."""

from __future__ import annotations

import json
import re
import time
from io import StringIO
from pathlib import Path

import httpx
import pytest
from django.core.management import call_command

from enrichment.api.tokens import api_token_create
from tests.ops.helpers import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

N = 40


def tier_total(text: str) -> float:
    return sum(float(m) for m in re.findall(r'^enrichment_context_requests_total\{tier="[a-z0-9]+"\} ([0-9.e+]+)$', text, re.M))


def test_metrics_sum_both_workers_and_access_log_is_json_with_request_ids(start_gunicorn):
    call_command("seed_demo", customers=0, stdout=StringIO())
    _token, raw = api_token_create(name="gunicorn-test")
    url, server, multiproc = start_gunicorn()
    headers = {"Authorization": f"Bearer {raw}"}
    ids = []
    for i in range(N):
        request_id = f"gun-{i}-{time.time_ns()}"
        with httpx.Client(timeout=10) as client:  # a new connection each: both workers take some
            response = client.get(f"{url}/api/v1/customers/customer_123/context/", headers={**headers, "X-Request-ID": request_id})
        assert response.status_code == 200, response.text
        assert response.headers["X-Request-ID"] == request_id
        ids.append(request_id)

    # every scrape, whichever worker answers it, sees all N requests (flushed at request end)
    def scrape():
        text = httpx.get(f"{url}/metrics").text
        return text if tier_total(text) >= N else None

    totals = []
    for _ in range(6):
        text = wait_until(scrape, 10, "all requests counted", server)
        totals.append(tier_total(text))
    assert set(totals) == {float(N)}, totals
    assert "enrichment_cache_hit_ratio" in text and "enrichment_celery_queue_length" in text
    files = {Path(p).name for p in multiproc.glob("counter_*.db")}
    assert len(files) >= 2, files  # both workers (and the master) wrote their own counts

    def access_lines():
        lines = [json.loads(line) for line in server.text().splitlines() if line.startswith("{") and '"http_request"' in line]
        return lines if len(lines) >= N else None

    lines = wait_until(access_lines, 10, "the access lines", server)
    by_id = {line["request_id"]: line for line in lines}
    for request_id in ids:
        line = by_id[request_id]
        assert (line["method"], line["status"], line["logger"]) == ("GET", 200, "http.access")
        assert line["path"] == "/api/v1/customers/customer_123/context/"
        assert line["duration_ms"] > 0 and line["bytes"] > 0
    assert len({by_id[request_id]["pid"] for request_id in ids}) == 2  # both workers served requests
    assert "Bearer" not in server.text()
    booting = [json.loads(line) for line in server.text().splitlines() if "Booting worker" in line]
    assert len(booting) == 2 and all(line["logger"] == "gunicorn.error" for line in booting)  # gunicorn's own lines: JSON too
