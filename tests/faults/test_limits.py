"""One body limit (API_MAX_BODY_BYTES, which Django's own follows) answered
413 in the error shape; under gunicorn, its own request-line and header limits
answered in the error shape too (config/gunicorn_worker.py)."""

from __future__ import annotations

import json
import socket

import pytest
from django.conf import settings as django_settings

from tests.enrichment.api.helpers import assert_error, client_for

EVENT = {"event_id": "e1", "customer_id": "customer_123", "kind": "login", "occurred_at": "2026-11-20T10:00:00Z"}


def test_django_follows_the_api_body_limit():
    assert django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE == django_settings.API_MAX_BODY_BYTES


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/events/", "/api/v1/contexts/batch/"])
def test_a_body_over_the_limit_is_a_413_in_the_error_shape(acme, make_token, path):
    client = client_for(make_token())
    body = json.dumps({"events": [EVENT]}) + " " * django_settings.API_MAX_BODY_BYTES
    assert_error(client.post(path, data=body, content_type="application/json"), 413, "request_too_large")


@pytest.mark.django_db
def test_raising_the_one_setting_raises_every_limit(acme, make_token, settings):
    settings.API_MAX_BODY_BYTES = settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4_000_000
    body = json.dumps({"events": [EVENT]}) + " " * 3_000_000  # over the default 2.5 MB
    response = client_for(make_token()).post("/api/v1/events/", data=body, content_type="application/json")
    assert response.status_code == 200, response.content[:300]
    assert response.json()["created"] == 1


@pytest.mark.django_db
def test_a_content_length_that_is_not_a_number_is_a_400(make_token):
    response = client_for(make_token()).generic("POST", "/api/v1/events/", b"{}", content_type="application/json", CONTENT_LENGTH="12x")
    assert_error(response, 400, "invalid_request")


def raw_request(url: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "request_bytes, status, code",
    [
        (b"GET /api/v1/customers/?search=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 414, "uri_too_long"),
        (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n", 431, "request_headers_too_large"),
        (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(120)) + b"\r\n", 431,
         "request_headers_too_large"),
        (b"GET /healthz HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n", 400, "invalid_request"),
    ],
)
def test_gunicorns_own_limits_answer_in_the_error_shape(start_gunicorn, request_bytes, status, code):
    url, _server, _ = start_gunicorn()
    got, headers, body = raw_request(url, request_bytes)
    assert got == status
    assert headers["Content-Type"] == "application/json"
    error = json.loads(body)["error"]
    assert error["code"] == code and error["message"] and error["details"] is None
