"""``python manage.py fetch_external customer_123 [--force]``: start the vendor
lookups for one customer (on a worker when a broker is configured, in-line
otherwise) and show what is stored."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from customers.selectors import customer_ref_get
from enrichment.vendors.selectors import external_records_for
from enrichment.vendors.tasks import fetch_external_enrichment


class Command(BaseCommand):
    help = "Fetch external company data (Clearbit/PDL, Crunchbase, NewsAPI) for one customer."

    def add_arguments(self, parser):
        parser.add_argument("customer_id", help="The customer's external id, e.g. customer_123.")
        parser.add_argument("--force", action="store_true", help="Ask the vendors even when the stored data is fresh.")

    def handle(self, *args, customer_id: str, force: bool, **options):
        customer = customer_ref_get(external_id=customer_id)
        if customer is None:
            raise CommandError(f"Unknown customer {customer_id!r}")
        result = fetch_external_enrichment.delay(customer.pk, force)
        if not settings.CELERY_TASK_ALWAYS_EAGER:
            self.stdout.write(f"Queued on the 'external' queue (task {result.id}); a worker stores the answers.")
        else:
            outcome = result.get()
            if outcome.get("skipped"):
                self.stdout.write(f"Nothing asked: {outcome['skipped']}.")
        for record in external_records_for(customer_pk=customer.pk):
            line = f"{record.vendor:15} {record.status:8} attempts={record.attempts}"
            if record.error:
                line += f"  {record.error}"
            self.stdout.write(line)
