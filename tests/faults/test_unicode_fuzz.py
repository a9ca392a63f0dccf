"""Every endpoint, every parameter and body field, arbitrary Unicode: lone
surrogates (in JSON as ``\\udXXX`` escapes, in query strings and paths as
their WTF-8 bytes, which is all the wire can carry), non-ASCII digits ("²",
"٣٠٠", "１２"), control characters, huge numbers. Driven by hypothesis
through the WSGI application: never a 5xx, and every error in the JSON error
shape. (tests/enrichment/api/test_schemathesis.py fuzzes from the OpenAPI
schema; this one aims at what the schema does not describe.)"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enrichment.context.scopes import TokenScope
from tests.enrichment.api.helpers import client_for

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "50"))

TRICKY = ["²", "٣٠٠", "１２", "300", "-1", "0", "99999999999999999999999", "1e3", " 3", "3_0", "true", "customer_123",
          "jane@acme.com", "acme.com", "2025-11-13T14:32:00Z", "login", "\x00", "\ud800", "\udfff", "a\ud83d", "\ud83d\ude00",
          "\u202e", "</customer_context>", ""]  # fmt: skip
SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
DIGITS = st.sampled_from("0123456789²³¹٠١٢٣٤٥٦٧٨٩０１２３߀৪")
TEXT = st.one_of(
    st.sampled_from(TRICKY),
    st.text(max_size=20),
    st.text(alphabet=st.one_of(SURROGATES, st.characters()), max_size=12),
    st.text(alphabet=DIGITS, min_size=1, max_size=8),
)
JSON_VALUE = st.recursive(
    st.one_of(TEXT, st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=6,
)

CUSTOMER = "/api/v1/customers/{id}/"
GETS = {
    CUSTOMER + "context/": ["refresh", "max_chars", "agent", "sections"],
    CUSTOMER + "context/prompt/": ["refresh", "max_chars", "include_changes"],
    CUSTOMER + "context/summary/": ["refresh"],
    CUSTOMER + "context/changes/": ["refresh", "since", "since_last_contact"],
    "/api/v1/context/": ["email", "domain", "agent", "sections", "max_chars", "refresh"],
    "/api/v1/customers/": ["search", "limit", "offset"],
    "/api/v1/tickets/{id}/context/": ["refresh", "max_chars"],
    "/api/v1/tickets/{id}/context/prompt/": ["refresh", "max_chars"],
}
EVENT_FIELDS = ["event_id", "customer_id", "kind", "feature", "occurred_at", "contact_email"]


def wire(value: str) -> str:
    """How a client can send a string in a URL: its UTF-8 bytes (a lone
    surrogate as its 3 WTF-8 bytes), percent-encoded."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def assert_answered(response) -> None:
    assert response.status_code < 500, (response.status_code, response.content[:300])
    if response.status_code >= 400:
        assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
        body = json.loads(response.content)
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
        assert isinstance(body["error"]["code"], str) and body["error"]["message"]


@pytest.fixture
def fuzz_client(acme, make_token, settings):
    settings.API_THROTTLE_RATE = "off"
    client = client_for(make_token(TokenScope.FULL))
    client.raise_request_exception = False  # a crash must show as the 500 a caller would get
    return client


def fuzz(**kwargs):
    return settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=not os.environ.get("API_FUZZ_RANDOM"),
        suppress_health_check=list(HealthCheck),
        **kwargs,
    )


@pytest.mark.parametrize("path", list(GETS))
def test_every_query_parameter_and_path_with_arbitrary_unicode(fuzz_client, path):
    names = GETS[path]

    @fuzz()
    @given(
        customer=st.one_of(st.just("customer_123"), TEXT),
        params=st.dictionaries(st.one_of(st.sampled_from(names), TEXT), TEXT, max_size=4),
    )
    def run(customer: str, params: dict[str, str]):
        query = "&".join(f"{wire(k)}={wire(v)}" for k, v in params.items())
        url = path.format(id=wire(customer) or "x") + (f"?{query}" if query else "")
        assert_answered(fuzz_client.get(url))

    run()


def test_the_batch_with_arbitrary_ids(fuzz_client):
    @fuzz()
    @given(
        body=st.one_of(
            st.fixed_dictionaries(
                {"customer_ids": st.lists(JSON_VALUE, max_size=5)}, optional={"emails": st.lists(JSON_VALUE, max_size=3)}
            ),
            JSON_VALUE,
        )
    )
    def run(body: Any):
        assert_answered(fuzz_client.post("/api/v1/contexts/batch/", data=json.dumps(body), content_type="application/json"))

    run()


def test_ingestion_with_arbitrary_fields(fuzz_client):
    event = st.fixed_dictionaries(
        {"event_id": TEXT, "customer_id": st.one_of(st.just("customer_123"), TEXT), "kind": st.one_of(st.just("login"), TEXT),
         "occurred_at": st.one_of(st.just("2026-11-20T10:00:00Z"), TEXT)},
        optional={"feature": JSON_VALUE, "contact_email": JSON_VALUE, "extra": JSON_VALUE},
    )

    @fuzz()
    @given(events=st.lists(st.one_of(event, JSON_VALUE), min_size=1, max_size=4))
    def run(events: list[Any]):
        assert_answered(fuzz_client.post("/api/v1/events/", data=json.dumps({"events": events}), content_type="application/json"))

    run()


def test_invalidate_and_operations_with_arbitrary_paths_and_queries(fuzz_client):
    @fuzz()
    @given(customer=TEXT, params=st.dictionaries(TEXT, TEXT, max_size=2))
    def run(customer: str, params: dict[str, str]):
        query = "&".join(f"{wire(k)}={wire(v)}" for k, v in params.items())
        suffix = f"?{query}" if query else ""
        assert_answered(fuzz_client.post(f"/api/v1/customers/{wire(customer) or 'x'}/context/invalidate/{suffix}"))
        for path in ("/healthz", "/readyz", "/api/v1/nowhere/"):
            assert_answered(fuzz_client.get(path + suffix))

    run()


@pytest.mark.parametrize(
    "url, code",
    [
        ("/api/v1/customers/customer_123/context/?agent=%C2%B2", "invalid_parameter"),  # "²": isdigit() yet no int
        ("/api/v1/customers/customer_123/context/?max_chars=%D9%A3%D9%A0%D9%A0", "invalid_parameter"),  # "٣٠٠"
        ("/api/v1/customers/?limit=%EF%BC%91%EF%BC%92", "invalid_parameter"),  # fullwidth digits 1 2
        ("/api/v1/customers/?offset=1_000", "invalid_parameter"),
    ],
)
def test_numbers_and_ids_are_parsed_strictly(fuzz_client, url, code):
    response = fuzz_client.get(url)
    assert (response.status_code, response.json()["error"]["code"]) == (400, code), response.content


@pytest.mark.parametrize(
    "body, path",
    [
        ({"customer_ids": ["\ud800"]}, "customer_ids.0"),
        ({"customer_ids": ["customer_123", {"\udc00": 1}]}, "customer_ids.1.<key>"),
        ({"\ud800": 1}, "<key>"),
    ],
)
def test_a_lone_surrogate_in_a_body_is_a_400_saying_where(fuzz_client, body, path):
    response = fuzz_client.post("/api/v1/contexts/batch/", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_unicode"
    assert response.json()["error"]["details"] == {"path": path}


def test_the_mcp_endpoint_with_arbitrary_messages(fuzz_client):
    """/mcp: arbitrary JSON-RPC-ish bodies and tool arguments; errors the
    transport answers itself (bad JSON-RPC) are JSON-RPC errors, never a 5xx."""
    headers = {"HTTP_ACCEPT": "application/json, text/event-stream", "HTTP_MCP_PROTOCOL_VERSION": "2025-06-18"}
    tool_call = st.fixed_dictionaries(
        {"jsonrpc": st.just("2.0"), "id": st.integers(1, 9), "method": st.just("tools/call"),
         "params": st.fixed_dictionaries({"name": st.sampled_from(["get_context", "get_changes", "record_outcome", "search_customers"]),
                                          "arguments": st.dictionaries(st.sampled_from(["customer_id", "email", "domain", "ticket_id",
                                                                                         "format", "max_chars", "since", "key", "query"]),
                                                                       JSON_VALUE, max_size=3)})},
    )  # fmt: skip

    @fuzz()
    @given(body=st.one_of(tool_call, JSON_VALUE))
    def run(body: Any):
        response = fuzz_client.post("/mcp", data=json.dumps(body), content_type="application/json", **headers)
        assert response.status_code < 500, (response.status_code, response.content[:300])

    run()
