"""Per-token rate limiting: 429 with Retry-After, independent per token."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from enrichment.api.throttling import parse_rate
from tests.enrichment.api.helpers import ACME, assert_error, client_for

pytestmark = pytest.mark.django_db

URL = f"/api/v1/customers/{ACME}/context/summary/"


def test_over_the_rate_is_429_with_retry_after(demo, full_token, make_token, settings):
    settings.API_THROTTLE_RATE = "3/hour"
    client = client_for(full_token)
    remaining = [client.get(URL)["X-RateLimit-Remaining"] for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    response = client.get(URL)
    error = assert_error(response, 429, "throttled")
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 3600
    assert error["details"] == {"retry_after": retry_after}
    assert response["X-RateLimit-Limit"] == "3" and response["X-RateLimit-Remaining"] == "0"

    # Another token has its own budget; a request without a token is 401, not 429.
    assert client_for(make_token()).get(URL).status_code == 200
    assert_error(client_for(None).get(URL), 401, "not_authenticated")


def test_errors_count_too(demo, full_token, settings):
    settings.API_THROTTLE_RATE = "2/hour"
    client = client_for(full_token)
    assert client.get("/api/v1/customers/ghost/context/").status_code == 404
    assert client.get(URL).status_code == 200
    response = client.get(URL)
    assert response.status_code == 429 and int(response["Retry-After"]) <= 3600


def test_off_disables_it(demo, full_token, settings):
    settings.API_THROTTLE_RATE = "off"
    client = client_for(full_token)
    for _ in range(5):
        response = client.get(URL)
        assert response.status_code == 200 and "X-RateLimit-Limit" not in response


def test_cache_down_lets_requests_through(demo, full_token, settings):
    settings.API_THROTTLE_RATE = "1/min"
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.1, "SOCKET_TIMEOUT": 0.1},
        },
    }
    client = client_for(full_token)
    assert client.get(URL).status_code == 200
    assert client.get(URL).status_code == 200


@pytest.mark.parametrize(
    ("rate", "expected"),
    [
        ("600/min", (600, 60)),
        ("10/s", (10, 1)),
        ("100/10s", (100, 10)),
        ("5000/hour", (5000, 3600)),
        ("1/day", (1, 86400)),
        ("off", None),
        ("", None),
    ],
)
def test_parse_rate(rate, expected):
    assert parse_rate(rate) == expected


@pytest.mark.parametrize("rate", ["fast", "10/fortnight", "-1/min", "10"])
def test_parse_rate_rejects_nonsense(rate):
    with pytest.raises(ImproperlyConfigured):
        parse_rate(rate)


def test_large_limits_sync_in_batches_and_stay_within_one_batch(demo, full_token, settings):
    """600/hour: the shared count is updated every 12 requests, and on every request near the limit."""
    from django.core.cache import caches

    settings.API_THROTTLE_RATE = "600/hour"
    client = client_for(full_token)
    statuses = [client.get("/api/v1/customers/customer_123/context/summary/").status_code for _ in range(620)]
    assert statuses[:600] == [200] * 600
    assert set(statuses[600:]) == {429}
    shared = list(caches["default"].keys("api-throttle:*"))
    assert shared and caches["default"].get(shared[0]) >= 600
