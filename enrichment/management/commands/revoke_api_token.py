"""python manage.py revoke_api_token PREFIX | --name NAME [--dry-run]"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from enrichment.api.selectors import api_token_by_name, api_token_by_prefix
from enrichment.api.tokens import api_token_revoke


class Command(BaseCommand):
    help = (
        "Revoke an API token by its prefix (the 12 hex characters after 'cce_'), its whole value, or --name. "
        "This process refuses it at once, other processes within API_TOKEN_CACHE_TTL seconds."
    )

    def add_arguments(self, parser):
        parser.add_argument("prefix", nargs="?", help="The token's prefix or the whole token.")
        parser.add_argument("--name", help="The token's name (see list_api_tokens).")
        parser.add_argument("--dry-run", action="store_true", help="Say which token would be revoked; change nothing.")

    def handle(self, *args, prefix: str | None, name: str | None, dry_run: bool, **options):
        if bool(prefix) == bool(name):
            raise CommandError("Give either a prefix (or the whole token) or --name.")
        if name:
            token = api_token_by_name(name=name)
            if token is None:
                raise CommandError(f"No token is named {name!r}.")
        else:
            parts = prefix.split("_", 2)
            if len(parts) == 3 and parts[0] == "cce":
                prefix = parts[1]
            token = api_token_by_prefix(prefix=prefix)
            if token is None:
                raise CommandError(f"No token has the prefix {prefix!r}.")
        if token.revoked_at is not None:
            self.stdout.write(f"'{token.name}' ({token.prefix}) was already revoked on {token.revoked_at:%Y-%m-%d %H:%M}.")
            return
        if dry_run:
            self.stdout.write(f"Dry run: would revoke '{token.name}' ({token.prefix}, scope {token.scope}).")
            return
        api_token_revoke(token=token)
        self.stdout.write(f"Revoked '{token.name}' ({token.prefix}).")
