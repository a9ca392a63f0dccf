"""python manage.py enrich customer_123 | --email jane@acme.com | --domain acme.com | --ticket 12
[--format prompt|json|summary] [--scope full|customer_facing] [--refresh] [--max-chars N]"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from enrichment.api import services
from enrichment.context.exceptions import ContextEnrichmentError, CustomerNotFound
from enrichment.context.scopes import TokenScope


class Command(BaseCommand):
    help = (
        "Print a customer's enriched context, by external id, contact email (with that person as requester), "
        "domain, or ticket (with the ticket and its requester), as the API renders it for a scope."
    )

    def add_arguments(self, parser):
        parser.add_argument("customer_id", nargs="?", help="The customer's external id, e.g. customer_123.")
        parser.add_argument("--email", help="The requester's email: their customer's context, with them as requester.")
        parser.add_argument("--domain", help="Find the customer by its domain instead.")
        parser.add_argument("--ticket", help="A ticket id: the context for answering that ticket.")
        parser.add_argument("--format", choices=["prompt", "json", "summary"], default="prompt")
        parser.add_argument("--scope", choices=list(TokenScope.values), default=TokenScope.FULL, help="Render as this token scope sees it.")
        parser.add_argument("--refresh", action="store_true", help="Skip the cache and recompute.")
        parser.add_argument("--max-chars", type=int, default=None, help="Size budget for the prompt block.")

    def handle(self, *args, customer_id=None, email=None, domain=None, ticket=None, **options):
        given = [value for value in (customer_id, email, domain, ticket) if value]
        if len(given) != 1:
            raise CommandError("Give exactly one of: a customer id, --email, --domain or --ticket.")
        max_chars, scope, refresh = options["max_chars"], options["scope"], options["refresh"]
        if max_chars is not None and max_chars < 1:
            raise CommandError("--max-chars must be a positive number.")
        conversation = None
        try:
            if ticket is not None:
                context, conversation = services.context_for_ticket(ticket_id=ticket, refresh=refresh)
            elif customer_id is None:
                context, conversation = services.context_for_lookup(email=email, domain=domain, refresh=refresh)
            else:
                context = services.context_get(customer_id=customer_id, refresh=refresh)
        except CustomerNotFound as exc:
            raise CommandError(f"Unknown customer: {exc.lookup}") from exc
        except ContextEnrichmentError as exc:
            raise CommandError(str(exc)) from exc

        fmt = options["format"]
        if fmt == "prompt":
            self.stdout.write(services.context_prompt(context, scope=scope, max_chars=max_chars, conversation=conversation))
        elif fmt == "summary":
            self.stdout.write(json.dumps(services.summary_for(context, scope=scope), indent=2))
        else:
            data = services.context_payload(context, scope=scope, max_chars=max_chars, conversation=conversation)
            self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False))
