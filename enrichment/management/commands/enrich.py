"""python manage.py enrich customer_123 [--format prompt|json|summary] [--refresh]"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from enrichment.context.exceptions import ContextEnrichmentError, CustomerNotFound
from enrichment.engine.service import get_context_service


class Command(BaseCommand):
    help = "Print a customer's enriched context (by external id, contact email or domain)."

    def add_arguments(self, parser):
        parser.add_argument("customer_id", nargs="?", help="The customer's external id, e.g. customer_123.")
        parser.add_argument("--email", help="Find the customer by a contact's email instead.")
        parser.add_argument("--domain", help="Find the customer by its domain instead.")
        parser.add_argument("--format", choices=["prompt", "json", "summary"], default="prompt")
        parser.add_argument("--refresh", action="store_true", help="Skip the cache and recompute.")
        parser.add_argument("--max-chars", type=int, default=None, help="Size budget for the prompt block.")

    def handle(self, *args, customer_id=None, email=None, domain=None, **options):
        given = [value for value in (customer_id, email, domain) if value]
        if len(given) != 1:
            raise CommandError("Give exactly one of: a customer id, --email or --domain.")
        if options["max_chars"] is not None and options["max_chars"] < 1:
            raise CommandError("--max-chars must be a positive number.")
        service = get_context_service()
        try:
            if customer_id is None:
                customer_id = service.resolve_customer_id(email=email, domain=domain)
            context = service.enrich_context(customer_id, force_refresh=options["refresh"])
        except CustomerNotFound as exc:
            raise CommandError(f"Unknown customer: {exc.lookup}") from exc
        except ContextEnrichmentError as exc:
            raise CommandError(str(exc)) from exc

        fmt = options["format"]
        if fmt == "prompt":
            self.stdout.write(context.to_prompt_context(max_chars=options["max_chars"]))
        elif fmt == "summary":
            self.stdout.write(json.dumps(context.get_summary(), indent=2))
        else:
            self.stdout.write(json.dumps(context.to_dict(), indent=2, ensure_ascii=False))
