"""python manage.py revoke_api_token PREFIX"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from enrichment.api.selectors import api_token_by_prefix
from enrichment.api.tokens import api_token_revoke


class Command(BaseCommand):
    help = "Revoke an API token by its prefix (the part after 'cce_'), or by its whole value."

    def add_arguments(self, parser):
        parser.add_argument("prefix")

    def handle(self, *args, prefix: str, **options):
        parts = prefix.split("_", 2)
        if len(parts) == 3 and parts[0] == "cce":
            prefix = parts[1]
        token = api_token_by_prefix(prefix=prefix)
        if token is None:
            raise CommandError(f"No token has the prefix {prefix!r}.")
        api_token_revoke(token=token)
        self.stdout.write(f"Revoked '{token.name}' ({token.prefix}).")
