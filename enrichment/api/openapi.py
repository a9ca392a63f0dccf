"""The OpenAPI document as its readers see it: tag descriptions, request and
response examples (real answers for the demo's customer_123, in
``openapi_examples/``), and a post-processing hook that turns the
reStructuredText the code's docstrings use into the Markdown OpenAPI renders
(``SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]``)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from drf_spectacular.utils import OpenApiExample

_EXAMPLES = Path(__file__).resolve().parent / "openapi_examples"

# The two main operations' descriptions (the others are beside their views).
CONTEXT_DESCRIPTION = (
    "Everything a support agent should know about a customer, by its id: company and plan "
    "(`customer_intelligence`), logins and feature use (`engagement_metrics`), tickets and satisfaction "
    "(`support_history`), seats and renewal (`subscription_details`), health score, churn risk and flags "
    "(`account_health`, `health_breakdown`, `flags`), suggested `next_actions`, product incidents "
    "(`product_status`) and live activity (`current_activity`), plus `prompt`: the same facts as a "
    "`<customer_context>` text block ready for an LLM's system prompt.\n\n"
    "`sections` limits the JSON to some sections; `max_chars` caps the prompt block (the least important "
    "lines go first); `refresh=true` recomputes instead of serving the cached context (`cache_hit` says "
    "which). A token with the `customer_facing` scope gets a different, allowlisted view "
    '(`"view": "customer_facing"`): only facts that may be shared with the customer.'
)

PROMPT_DESCRIPTION = (
    "Only the `<customer_context>` block, as `text/plain` (UTF-8): append it to your LLM's system prompt. "
    "It starts with an `As of:` line (when the figures were computed) and names the company, plan, health, "
    "churn risk as a band, recent activity, support history, open tickets, subscription, and what needs "
    "attention. `max_chars` caps its size (200-100000; the least important parts are dropped first and "
    "listed in an `Omitted` line). `include_changes=true` adds what changed since the customer's previous "
    "ticket. Customer text in it (ticket subjects, names) is quoted and sanitised."
)


def _load(name: str) -> Any:
    return json.loads((_EXAMPLES / name).read_text(encoding="utf-8"))


CONTEXT_123 = _load("context_customer_123.json")
CUSTOMER_FACING_123 = _load("customer_facing_context_customer_123.json")
SUMMARY_123 = _load("summary_customer_123.json")

CONTEXT_EXAMPLES = [
    OpenApiExample(
        "customer_123, full scope",
        value=CONTEXT_123,
        response_only=True,
        status_codes=["200"],
        description="Acme Corp, a healthy Premium account: every section, then the `prompt` block.",
    ),
    OpenApiExample(
        "customer_123, customer_facing scope",
        value=CUSTOMER_FACING_123,
        response_only=True,
        status_codes=["200"],
        description="The same customer for a token that talks to the customer: only facts that may be shared with them.",
    ),
]
PROMPT_EXAMPLES = [OpenApiExample("customer_123", value=CONTEXT_123["prompt"], response_only=True, status_codes=["200"])]
SUMMARY_EXAMPLES = [OpenApiExample("customer_123", value=SUMMARY_123, response_only=True, status_codes=["200"])]

BATCH_EXAMPLES = [
    OpenApiExample(
        "Two ids and an email",
        value={"customer_ids": ["customer_123", "no_such_customer"], "emails": ["jane@acme.com"]},
        request_only=True,
    ),
    OpenApiExample(
        "An unknown id in a batch",
        value={
            "results": [
                {
                    "customer_id": "no_such_customer",
                    "status": "not_found",
                    "context": None,
                    "error": {
                        "code": "customer_not_found",
                        "message": "No customer matches customer_id 'no_such_customer'",
                        "details": None,
                    },
                }
            ]
        },
        response_only=True,
        status_codes=["200"],
    ),
]
EVENTS_EXAMPLES = [
    OpenApiExample(
        "A feature used",
        value={
            "events": [
                {
                    "event_id": "evt-0001",
                    "customer_id": "customer_123",
                    "kind": "feature_use",
                    "feature": "reports",
                    "occurred_at": "2025-11-13T14:32:00Z",
                    "contact_email": "jane@acme.com",
                }
            ]
        },
        request_only=True,
    ),
    OpenApiExample("Stored", value={"received": 1, "created": 1, "duplicates": 0}, response_only=True, status_codes=["200"]),
]
CUSTOMERS_EXAMPLES = [
    OpenApiExample(
        "Searching for acme",
        value={
            "count": 1,
            "next": None,
            "previous": None,
            "results": [
                {
                    "external_id": "customer_123",
                    "company_name": "Acme Corp",
                    "domain": "acme.com",
                    "industry": "Technology",
                    "region": "North America",
                    "plan": "premium",
                    "health_score": 85,
                    "health_label": "Good",
                }
            ],
        },
        response_only=True,
        status_codes=["200"],
    )
]

NOT_READY_EXAMPLES = [
    OpenApiExample(
        "Database down",
        value={"status": "error", "checks": {"database": "unreachable", "cache": "ok", "broker": "ok"}, "elapsed_ms": 1003.2},
        response_only=True,
        status_codes=["503"],
    )
]

# One example error per status, as the API writes them.
ERROR_EXAMPLES: dict[int, tuple[str, str, Any]] = {
    400: ("invalid_customer_id", "A customer id is 1-64 of letters, digits, '_', '.', ':' and '-'.", None),
    401: ("authentication_failed", "Invalid token.", None),
    403: ("permission_denied", "This endpoint needs a token with the 'full' scope.", None),
    404: ("customer_not_found", "No customer matches customer_id 'nobody'", {"lookup": "customer_id 'nobody'"}),
    413: ("request_too_large", "The request body is larger than 2621440 bytes.", None),
    415: ("unsupported_media_type", 'Unsupported media type "text/plain" in request.', None),
    429: ("throttled", "Too many requests: retry in 12 seconds.", {"retry_after": 12}),
    503: ("context_unavailable", "The customer context is temporarily unavailable; retry shortly.", None),
}


def error_example(status: int) -> OpenApiExample:
    code, message, details = ERROR_EXAMPLES[status]
    return OpenApiExample(code, value={"error": {"code": code, "message": message, "details": details}}, response_only=True)


# --- reStructuredText to Markdown -----------------------------------------------------------

_ROLE = re.compile(r":[a-z]+:`~?([^`<]*?)(?:\s*<[^>]*>)?`")  # :class:`~a.b.C` -> C
_LITERAL = re.compile(r"``(.+?)``", re.DOTALL)


def markdown(text: str) -> str:
    """Inline reStructuredText as Markdown: ``x`` -> `x`, :role:`a.b.C` -> `C`, ``None`` -> `null`."""
    text = _ROLE.sub(lambda m: f"`{m.group(1).rsplit('.', 1)[-1]}`", text)
    text = _LITERAL.sub(r"`\1`", text)
    return text.replace("`None`", "`null`").replace("`True`", "`true`").replace("`False`", "`false`")


_DATA_KEYS = frozenset({"examples", "example", "default", "enum"})


def _walk(node: Any) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("description", "summary") and isinstance(value, str):
                node[key] = markdown(value)
            elif key not in _DATA_KEYS:
                _walk(value)
    elif isinstance(node, list):
        for item in node:
            _walk(item)


def postprocess_for_readers(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular post-processing hook: every description and summary
    (operations, parameters, components and their properties) in Markdown.
    Examples, defaults and enums are data: left alone."""
    _walk(result)
    return result
