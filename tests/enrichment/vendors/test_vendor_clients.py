"""Each vendor client against a real HTTP stand-in on 127.0.0.1, through the
Celery task that stores its answer (run eagerly): what is stored, and how many
calls were made."""

from __future__ import annotations

import base64
import datetime as dt
import time

import pytest

from enrichment.demo.fake_vendors import Reply
from enrichment.vendors.clearbit import ClearbitClient
from enrichment.vendors.http import VendorAuthError, VendorBadResponse, VendorQueued, VendorRateLimited, VendorTimeout
from enrichment.vendors.models import ExternalRecord
from enrichment.vendors.tasks import fetch_vendor_data
from tests.enrichment.external_fixtures import make_customer

pytestmark = pytest.mark.django_db

CLEARBIT_ERR = {
    "queued": Reply(202, {"error": {"type": "queued", "message": "Lookup queued."}}),
    "unknown": Reply(404, {"error": {"type": "unknown_record", "message": "Unknown company."}}),
    "invalid": Reply(422, {"error": {"type": "params_invalid", "message": "Invalid domain"}}),
    "auth": Reply(401, {"error": {"type": "auth_required", "message": "Invalid API key."}}),
    "quota": Reply(402, {"error": {"type": "over_quota", "message": "Over plan quota."}}),
    "server": Reply(500, {"error": {"type": "api_error", "message": "Internal error."}}),
}


def run(customer, vendor):
    status = fetch_vendor_data.delay(customer.pk, vendor).get()
    return status, ExternalRecord.objects.get(customer=customer, vendor=vendor)


# -- Clearbit ------------------------------------------------------------------------------
def test_clearbit_success_stores_normalised_company_data(vendors_on):
    customer = make_customer()
    status, record = run(customer, "clearbit")
    assert status == "ok"
    assert (record.status, record.attempts, record.error) == ("ok", 1, "")
    assert record.fetched_at is not None
    payload = record.payload
    assert payload["name"] == "Acme Corp"
    assert payload["employees"] == 250 and payload["employees_range"] == "251-1K"
    assert payload["crunchbase_handle"] == "organization/acme"
    assert "metrics" not in payload and "geo" not in payload  # normalised, not the vendor's body
    [call] = vendors_on.calls_to("clearbit")
    assert call.path == "/v2/companies/find" and call.query == {"domain": "acme.com"}
    assert base64.b64decode(call.headers["authorization"].removeprefix("Basic ")).decode() == "ck_test_key:"
    assert call.headers["user-agent"].startswith("customer-context-enrichment/")


@pytest.mark.parametrize(
    ("replies", "status", "calls", "attempts", "error_part"),
    [
        pytest.param([CLEARBIT_ERR["unknown"]], "no_data", 1, 1, "", id="404-unknown_record-is-no-data"),
        pytest.param([CLEARBIT_ERR["invalid"]], "no_data", 1, 1, "", id="422-invalid-domain-is-no-data"),
        pytest.param([CLEARBIT_ERR["queued"]], "ok", 2, 2, "", id="202-then-200"),
        pytest.param([CLEARBIT_ERR["auth"]], "error", 1, 1, "HTTP 401", id="401-not-retried"),
        pytest.param([CLEARBIT_ERR["quota"]], "error", 1, 1, "HTTP 402", id="402-not-retried"),
        pytest.param([CLEARBIT_ERR["server"]], "ok", 2, 2, "", id="500-then-200"),
        pytest.param([CLEARBIT_ERR["server"]] * 3, "error", 3, 3, "gave up after 3 attempt(s)", id="500-until-retries-run-out"),
        pytest.param(
            [Reply(200, b"{'name': 'Acme'", content_type="application/json")], "error", 1, 1, "malformed JSON", id="malformed-json"
        ),
        pytest.param(
            [Reply(200, b"<html>hi</html>", content_type="text/html")], "error", 1, 1, "content type 'text/html'", id="wrong-type"
        ),
        pytest.param([Reply(200, [1, 2])], "error", 1, 1, "not an object", id="json-not-an-object"),
    ],
)
def test_clearbit_answers(vendors_on, replies, status, calls, attempts, error_part):
    customer = make_customer()
    vendors_on.script("clearbit", *replies)
    _, record = run(customer, "clearbit")
    assert (record.status, record.attempts) == (status, attempts)
    assert error_part in record.error
    assert len(vendors_on.calls_to("clearbit")) == calls
    if status == "no_data":
        assert record.payload == {} and record.fetched_at is not None


def test_clearbit_429_honours_retry_after(vendors_on):
    customer = make_customer()
    vendors_on.script("clearbit", Reply(429, {"error": {"type": "rate_limit", "message": "Slow down."}}, headers={"Retry-After": "1"}))
    _, record = run(customer, "clearbit")
    first, second = vendors_on.calls_to("clearbit")
    assert record.status == "ok" and record.attempts == 2
    assert second.at - first.at >= 1.0


def test_clearbit_429_without_retry_after_uses_the_reset_in_message(vendors_on):
    customer = make_customer()
    message = "Rate limit exceeded. Limit is 600 requests per minute. Rate limit will be reset in 1 seconds."
    vendors_on.script("clearbit", Reply(429, {"error": {"type": "rate_limit", "message": message}}, headers={"X-RateLimit-Limit": "600"}))
    _, record = run(customer, "clearbit")
    first, second = vendors_on.calls_to("clearbit")
    assert record.status == "ok"
    assert second.at - first.at >= 1.0


def test_a_hang_longer_than_the_read_timeout_is_a_timeout_and_is_retried(vendors_on):
    customer = make_customer()
    vendors_on.script("clearbit", Reply(hang=5))
    started = time.monotonic()
    _, record = run(customer, "clearbit")
    assert time.monotonic() - started < 3  # the 0.5 s read timeout, not the 5 s hang
    assert record.status == "ok" and record.attempts == 2
    assert len(vendors_on.calls_to("clearbit")) == 2


def test_hangs_until_retries_run_out_store_the_timeout(vendors_on, settings):
    settings.EXTERNAL_MAX_RETRIES = 1
    settings.EXTERNAL_HTTP_READ_TIMEOUT = 0.3
    customer = make_customer()
    vendors_on.script("clearbit", Reply(hang=5), Reply(hang=5))
    _, record = run(customer, "clearbit")
    assert record.status == "error" and "ReadTimeout" in record.error
    assert len(vendors_on.calls_to("clearbit")) == 2


def test_a_failure_keeps_the_data_stored_before(vendors_on, settings):
    settings.EXTERNAL_DATA_TTL_HOURS = 0  # everything is stale: fetch again
    customer = make_customer()
    run(customer, "clearbit")
    vendors_on.script("clearbit", CLEARBIT_ERR["auth"])
    _, record = run(customer, "clearbit")
    assert record.status == "error" and record.payload["name"] == "Acme Corp"
    assert ExternalRecord.objects.filter(customer=customer).count() == 1


def test_fresh_data_is_not_fetched_again_unless_forced(vendors_on):
    customer = make_customer()
    run(customer, "clearbit")
    assert fetch_vendor_data.delay(customer.pk, "clearbit").get() == "fresh"
    assert fetch_vendor_data.delay(customer.pk, "clearbit", True).get() == "ok"
    assert len(vendors_on.calls_to("clearbit")) == 2


def test_a_vendor_without_key_is_not_called(vendors_on, settings):
    settings.CLEARBIT_API_KEY = None
    customer = make_customer()
    assert fetch_vendor_data.delay(customer.pk, "clearbit").get() == "not configured"
    assert vendors_on.calls_to("clearbit") == []
    assert not ExternalRecord.objects.exists()


def test_the_client_raises_typed_errors(vendors_on):
    client = ClearbitClient(api_key="k", base_url=vendors_on.url)
    vendors_on.script(
        "clearbit",
        CLEARBIT_ERR["queued"],
        CLEARBIT_ERR["auth"],
        Reply(429, {"error": {"type": "rate_limit", "message": "reset in 50 seconds"}}),
        Reply(200, b"nope", content_type="text/plain"),
        Reply(hang=3),
    )
    with pytest.raises(VendorQueued):
        client.find_company("acme.com")
    with pytest.raises(VendorAuthError):
        client.find_company("acme.com")
    with pytest.raises(VendorRateLimited) as limited:
        client.find_company("acme.com")
    assert limited.value.retry_after == 50
    with pytest.raises(VendorBadResponse):
        client.find_company("acme.com")
    with pytest.raises(VendorTimeout):
        client.find_company("acme.com")
    assert client.find_company("unknown-company.com") is None
    assert client.find_company("acme.com").name == "Acme Corp"


# -- People Data Labs (the second company-data client) -------------------------------------------
def test_peopledatalabs_is_the_company_vendor_when_clearbit_has_no_key(vendors_on, settings):
    settings.CLEARBIT_API_KEY = None
    settings.PEOPLEDATALABS_API_KEY = "pdl_test_key"
    customer = make_customer()
    _, record = run(customer, "peopledatalabs")
    assert record.status == "ok"
    assert (record.payload["name"], record.payload["employees"], record.payload["employees_range"]) == ("Acme Corp", 250, "201-500")
    [call] = vendors_on.calls_to("peopledatalabs")
    assert call.path == "/v5/company/enrich" and call.query == {"website": "acme.com"}
    assert call.headers["x-api-key"] == "pdl_test_key"
    unknown = make_customer(domain="unknown-co.com", name="Unknown Co")
    assert run(unknown, "peopledatalabs")[1].status == "no_data"


# -- Crunchbase ----------------------------------------------------------------------------------
def test_crunchbase_success_uses_clearbits_handle(vendors_on):
    customer = make_customer(domain="acme.com")
    run(customer, "clearbit")
    _, record = run(customer, "crunchbase")
    assert record.status == "ok"
    payload = record.payload
    assert payload["funding_total_usd"] == 42_000_000
    assert (payload["last_funding_type"], payload["last_funding_at"], payload["num_funding_rounds"]) == ("series_b", "2024-03-12", 3)
    assert payload["investors"] == ["Sequoia Capital", "Y Combinator"]
    [call] = vendors_on.calls_to("crunchbase")
    assert call.path == "/api/v4/entities/organizations/acme"
    assert "funding_total" in call.query["field_ids"].split(",")
    assert call.headers["x-cb-user-key"] == "cb_test_key"


@pytest.mark.parametrize(
    ("replies", "status", "calls", "error_part"),
    [
        pytest.param([Reply(404, [{"status": 404, "code": "MD404", "message": "Entity not found"}])], "no_data", 1, "", id="404"),
        pytest.param([Reply(401, [{"status": 401, "code": "LA401", "message": "Unauthorized user_key"}])], "error", 1, "LA401", id="401"),
        pytest.param(
            [Reply(429, [{"status": 429, "code": "RL429", "message": "Too many requests"}])], "ok", 2, "", id="429-no-retry-after"
        ),
        pytest.param([Reply(500, [{"status": 500, "code": "IS500", "message": "Internal error"}])] * 3, "error", 3, "IS500", id="500s"),
        pytest.param([Reply(200, {"cards": {}})], "error", 1, "no properties", id="no-properties"),
    ],
)
def test_crunchbase_answers(vendors_on, replies, status, calls, error_part):
    customer = make_customer()
    vendors_on.script("crunchbase", *replies)
    _, record = run(customer, "crunchbase")
    assert record.status == status
    assert error_part in record.error
    assert len(vendors_on.calls_to("crunchbase")) == calls


# -- NewsAPI ----------------------------------------------------------------------------------------
def test_newsapi_success_stores_news_items(vendors_on):
    customer = make_customer()
    _, record = run(customer, "newsapi")
    assert record.status == "ok"
    articles = record.payload["articles"]
    assert articles[0]["title"] == "Acme Corp raises $20M Series B to expand in Europe"
    assert set(articles[0]) == {"title", "url", "source", "published_at"}
    published = [dt.datetime.fromisoformat(a["published_at"]) for a in articles]
    assert published == sorted(published, reverse=True)
    [call] = vendors_on.calls_to("newsapi")
    assert call.path == "/v2/everything"
    assert call.query["q"] == '"Acme Corp" OR acme.com'
    assert (call.query["sortBy"], call.query["language"]) == ("publishedAt", "en")
    assert call.headers["x-api-key"] == "na_test_key"


@pytest.mark.parametrize(
    ("replies", "status", "calls", "error_part"),
    [
        pytest.param(
            [Reply(401, {"status": "error", "code": "apiKeyInvalid", "message": "Your API key is invalid."})],
            "error",
            1,
            "apiKeyInvalid",
            id="401",
        ),
        pytest.param([Reply(429, {"status": "error", "code": "rateLimited", "message": "Too many requests."})], "ok", 2, "", id="429"),
        pytest.param(
            [Reply(400, {"status": "error", "code": "parameterInvalid", "message": "q is too long"})], "no_data", 1, "", id="400-param"
        ),
        pytest.param(
            [Reply(500, {"status": "error", "code": "unexpectedError", "message": "Oops"}), Reply(200, b"{")],
            "error",
            2,
            "malformed",
            id="500-then-bad",
        ),
        pytest.param([Reply(200, {"status": "error", "code": "x"})], "error", 1, "not a NewsAPI result", id="200-error-body"),
    ],
)
def test_newsapi_answers(vendors_on, replies, status, calls, error_part):
    customer = make_customer()
    vendors_on.script("newsapi", *replies)
    _, record = run(customer, "newsapi")
    assert record.status == status
    assert error_part in record.error
    assert len(vendors_on.calls_to("newsapi")) == calls
