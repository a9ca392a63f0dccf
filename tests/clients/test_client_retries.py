"""The standalone client's retries and error mapping against a real local
HTTP server (http.server on 127.0.0.1 in a thread) that answers from a script:
429 with Retry-After then 200, 503 twice then 200, connection errors, and a
non-idempotent POST that is never retried. No Django involved."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from customer_context import (
    APIConnectionError,
    AsyncContextClient,
    AuthenticationError,
    ContextAPIError,
    ContextClient,
    CustomerNotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RetryPolicy,
    ServiceUnavailableError,
    ValidationError,
)
from customer_context._retry import retry_after_seconds

CONTEXT = {"customer_id": "customer_123", "prompt": "<customer_context>\nCompany: Acme Corp\n</customer_context>", "cache_hit": True}
FAST = RetryPolicy(max_attempts=4, backoff=0.01, max_backoff=0.05, max_total=5)


def _error(status: int, code: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    body = {"error": {"code": code, "message": f"{code} happened", "details": {"why": code}}}
    return status, headers or {}, json.dumps(body).encode()


OK = (200, {}, json.dumps(CONTEXT).encode())


class StandIn:
    """A scripted API: each request takes the next answer (the last one repeats)."""

    def __init__(self) -> None:
        self.script: list[tuple[int, dict[str, str], bytes]] = [OK]
        self.requests: list[tuple[str, str, float]] = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                stand_in.requests.append((self.command, self.path, time.monotonic()))
                status, headers, body = stand_in.script.pop(0) if len(stand_in.script) > 1 else stand_in.script[0]
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def waits(self) -> list[float]:
        times = [at for _method, _path, at in self.requests]
        return [later - earlier for earlier, later in itertools.pairwise(times)]


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    server = StandIn()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def test_429_honours_retry_after_then_succeeds(stand_in):
    stand_in.script = [_error(429, "throttled", {"Retry-After": "1"}), OK]
    with ContextClient(stand_in.url, "token", retry=FAST) as client:
        assert client.get_context("customer_123").company_name == ""
    assert len(stand_in.requests) == 2
    assert 0.95 <= stand_in.waits()[0] < 2.5  # Retry-After, not the 10 ms backoff


def test_503_twice_then_200_sync_and_async(stand_in):
    stand_in.script = [_error(503, "context_unavailable"), _error(503, "context_unavailable"), OK]
    with ContextClient(stand_in.url, "token", retry=FAST) as client:
        assert client.get_prompt("customer_123").startswith("{")
    assert [path for _m, path, _t in stand_in.requests] == ["/api/v1/customers/customer_123/context/prompt/"] * 3

    stand_in.requests.clear()
    stand_in.script = [_error(503, "context_unavailable"), _error(502, "bad_gateway"), OK]

    async def fetch() -> str:
        async with AsyncContextClient(stand_in.url, "token", retry=FAST) as client:
            return (await client.get_context("customer_123")).customer_id

    assert asyncio.run(fetch()) == "customer_123" and len(stand_in.requests) == 3


def test_idempotent_posts_are_retried(stand_in):
    item = {"customer_id": "customer_123", "status": "ok", "context": CONTEXT, "error": None}
    batch = (200, {}, json.dumps({"results": [item]}).encode())
    stand_in.script = [_error(503, "context_unavailable"), batch]
    with ContextClient(stand_in.url, "token", retry=FAST) as client:
        assert client.batch(["customer_123"])[0].context.customer_id == "customer_123"
        stand_in.script = [_error(504, "timeout"), (204, {}, b"")]
        client.invalidate("customer_123")
        stand_in.script = [_error(429, "throttled", {"Retry-After": "0"}), (200, {}, b'{"received": 1, "created": 0, "duplicates": 1}')]
        event = {"event_id": "e1", "customer_id": "customer_123", "kind": "login", "occurred_at": "2025-11-13T14:32:00Z"}
        assert client.ingest_events([event]).duplicates == 1
    assert [method for method, _p, _t in stand_in.requests] == ["POST"] * 6


def test_a_non_idempotent_post_is_not_retried(stand_in):
    stand_in.script = [_error(503, "context_unavailable"), OK]
    with ContextClient(stand_in.url, "token", retry=FAST) as client:
        with pytest.raises(ServiceUnavailableError) as unavailable:
            client.request("POST", "outcomes/", json={"outcome": "resolved"})
        assert unavailable.value.code == "context_unavailable" and len(stand_in.requests) == 1
        stand_in.script = [_error(503, "context_unavailable"), OK]
        with pytest.raises(ServiceUnavailableError):  # an event without event_id cannot be deduplicated
            client.ingest_events([{"customer_id": "customer_123", "kind": "login", "occurred_at": "2025-11-13T14:32:00Z"}])
    assert len(stand_in.requests) == 2


def test_attempts_and_total_time_are_bounded(stand_in):
    stand_in.script = [_error(503, "context_unavailable")]
    with ContextClient(stand_in.url, "token", retry=FAST) as client, pytest.raises(ServiceUnavailableError):
        client.get_summary("customer_123")
    assert len(stand_in.requests) == FAST.max_attempts

    stand_in.requests.clear()
    stand_in.script = [_error(429, "throttled", {"Retry-After": "60"})]
    started = time.monotonic()
    with ContextClient(stand_in.url, "token", retry=FAST) as client, pytest.raises(RateLimitedError) as limited:
        client.get_context("customer_123")
    assert time.monotonic() - started < 2 and len(stand_in.requests) == 1  # a wait past max_total is not started
    assert limited.value.retry_after == 60 and limited.value.status_code == 429


def test_connection_errors_are_retried_then_raised():
    refused = RetryPolicy(max_attempts=3, backoff=0.01, max_backoff=0.02)
    with ContextClient("http://127.0.0.1:9", "token", retry=refused) as client, pytest.raises(APIConnectionError) as down:
        client.get_context("customer_123")
    assert down.value.status_code is None and down.value.code == "connection_error"
    assert isinstance(down.value, ContextAPIError)


@pytest.mark.parametrize(
    ("status", "code", "exception"),
    [
        (400, "invalid_parameter", ValidationError),
        (401, "authentication_failed", AuthenticationError),
        (403, "permission_denied", PermissionDeniedError),
        (404, "customer_not_found", CustomerNotFoundError),
        (413, "request_too_large", ValidationError),
        (429, "throttled", RateLimitedError),
        (503, "context_unavailable", ServiceUnavailableError),
        (500, "server_error", ContextAPIError),
    ],
)
def test_errors_are_mapped(stand_in, status, code, exception):
    stand_in.script = [_error(status, code, {"Retry-After": "7"} if status == 429 else None)]
    with ContextClient(stand_in.url, "token", retry=RetryPolicy(max_attempts=1)) as client, pytest.raises(exception) as raised:
        client.get_context("customer_123")
    error = raised.value
    assert (error.status_code, error.code, error.message, error.details) == (status, code, f"{code} happened", {"why": code})
    assert error.retry_after == (7 if status == 429 else None)


def test_a_non_json_error_body_still_maps(stand_in):
    stand_in.script = [(502, {}, b"<html>Bad Gateway</html>")]
    with ContextClient(stand_in.url, "token", retry=RetryPolicy(max_attempts=1)) as client, pytest.raises(ServiceUnavailableError) as bad:
        client.get_context("customer_123")
    assert bad.value.code == "http_error" and bad.value.status_code == 502


def test_retry_after_parsing():
    assert retry_after_seconds("3") == 3 and retry_after_seconds("-1") == 0 and retry_after_seconds(None) is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0 and retry_after_seconds("soon") is None


def test_backoff_grows_with_jitter_and_is_capped():
    policy = RetryPolicy(backoff=1, max_backoff=4)
    for attempt, cap in [(1, 1), (2, 2), (3, 4), (6, 4)]:
        delays = {policy.backoff_delay(attempt) for _ in range(20)}
        assert all(cap / 2 <= d <= cap for d in delays) and len(delays) > 1
