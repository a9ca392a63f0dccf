"""The OpenAPI document's introduction and tags, written for the readers of
``/api/docs/`` (``SPECTACULAR_SETTINGS["DESCRIPTION"]`` and ``["TAGS"]``)."""

API_DESCRIPTION = """\
Enriched customer context for LLM support agents: who the customer is, their plan and subscription, account \
health and churn risk, product engagement, support history and flags, as JSON and as a ready \
`<customer_context>` block for a system prompt. Look a customer up by id, by the email of the person writing, \
by company domain, or by the ticket being answered.

**Authentication.** Send `Authorization: Bearer <token>` with every request. Tokens are created by the \
service's administrators (`python manage.py create_api_token NAME --scope full|customer_facing`). A \
`customer_facing` token, for bots that talk to the customer, gets an allowlisted view: never revenue, \
health, churn risk, internal flags or suggested actions.

**Errors** have one shape, `{"error": {"code": "customer_not_found", "message": "...", "details": null}}`: \
branch on `code`, show `message`.

**Rate limits** are per token. Every answer has `X-RateLimit-Limit`, `X-RateLimit-Remaining` and \
`X-RateLimit-Reset`; over the limit the answer is 429 with `Retry-After` (seconds). A 503 also carries \
`Retry-After`. Reads, batches, invalidations and events (by `event_id`) are safe to retry.

**From Python**: `pip install ./clients/python` from the service's repository, then \
`from customer_context import ContextClient` (sync and async, typed results, retries built in).
"""

API_TAGS = [
    {
        "name": "context",
        "description": (
            "A customer's context: who they are, their plan and subscription, account health and churn risk, product "
            "engagement, support history, flags and suggested next actions, as JSON and as a ready "
            "`<customer_context>` block to paste into an LLM's system prompt. Look it up by customer id, by the "
            "email of the person writing, by company domain or by the ticket being answered."
        ),
    },
    {"name": "customers", "description": "Find a customer's id by name, domain, id or a contact's email (`full` scope)."},
    {"name": "events", "description": "Send product usage events (logins, feature use...) that feed engagement figures (`full` scope)."},
    {
        "name": "experiments",
        "description": (
            "Which context helps: record how each conversation ended against the context served (its "
            "`context_id`), and read how each context strategy of an experiment did, with a verdict in plain words."
        ),
    },
    {"name": "operations", "description": "Liveness and readiness probes for load balancers and orchestrators; no token."},
]
