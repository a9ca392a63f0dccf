"""Quickstart: find a customer, read its context, put it into a system prompt.

    pip install ./clients/python
    export CUSTOMER_CONTEXT_URL=http://127.0.0.1:8000
    export CUSTOMER_CONTEXT_TOKEN=cce_...        # manage.py create_api_token my-agent
    python examples/quickstart.py [customer_id]

Needs nothing but this package (and httpx, which it installs).
"""

from __future__ import annotations

import asyncio
import sys

from customer_context import AsyncContextClient, ContextClient, CustomerNotFoundError


def main(customer_id: str) -> None:
    # Base URL and token from CUSTOMER_CONTEXT_URL and CUSTOMER_CONTEXT_TOKEN.
    with ContextClient() as client:
        page = client.search_customers(customer_id, limit=1)
        print(f"found {page.count} customer(s) for {customer_id!r}")

        context = client.get_context(customer_id)
        print(f"{context.customer_id}: {context.company_name} (cache hit: {context.cache_hit})")
        health = context.sections["account_health"]
        print(f"health {health['health_score']} ({health['health_label']})")

        summary = client.get_summary(customer_id)
        print(f"plan {summary.plan}, {summary.open_tickets} open ticket(s), lifecycle {summary.lifecycle}")

        system_prompt = client.inject_context_into_prompt("You are a helpful support agent.", customer_id, max_chars=1500)
        print(system_prompt)

        try:
            client.get_context("no_such_customer")
        except CustomerNotFoundError as exc:
            print(f"unknown customer: {exc.status_code} {exc.code}")


async def main_async(customer_id: str) -> None:
    async with AsyncContextClient() as client:
        prompt, by_email = await asyncio.gather(client.get_prompt(customer_id), client.context_for_email("jane@acme.com"))
        print(f"async: prompt of {len(prompt)} characters; jane@acme.com writes for {by_email.customer_id}")


if __name__ == "__main__":
    customer = sys.argv[1] if len(sys.argv) > 1 else "customer_123"
    main(customer)
    asyncio.run(main_async(customer))
