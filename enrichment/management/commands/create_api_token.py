"""python manage.py create_api_token NAME [--scope full|customer_facing]"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from enrichment.api.tokens import api_token_create
from enrichment.context.scopes import TokenScope


class Command(BaseCommand):
    help = "Create an API token for an agent and print it once (only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="Who or what uses the token, e.g. support-bot.")
        parser.add_argument(
            "--scope",
            choices=TokenScope.values,
            default=TokenScope.FULL,
            help="full (default): everything. customer_facing: no MRR/revenue, churn risk or health breakdown.",
        )

    def handle(self, *args, name: str, scope: str, **options):
        try:
            token, raw = api_token_create(name=name, scope=scope)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stderr.write(f"Created token '{token.name}' (prefix {token.prefix}, scope {token.scope}).")
        self.stderr.write("Store it now: it is not shown again.")
        self.stdout.write(raw)
