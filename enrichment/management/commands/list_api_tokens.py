"""python manage.py list_api_tokens [--all]"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone

from enrichment.api.selectors import api_tokens_list


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "never"


class Command(BaseCommand):
    help = "List API tokens (name, prefix, scope, created, last used; --all adds revoked ones). Secrets are never shown."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="Include revoked tokens.")

    def handle(self, *args, **options):
        tokens = list(api_tokens_list(include_revoked=options["all"]))
        rows = [
            (
                t.name,
                t.prefix,
                t.scope,
                _when(t.created_at),
                _when(t.last_used_at),
                f"revoked {_when(t.revoked_at)}" if t.revoked_at else "active",
            )
            for t in tokens
        ]
        header = ("NAME", "PREFIX", "SCOPE", "CREATED", "LAST USED", "STATUS")
        widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows] if rows else []:
            self.stdout.write("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        active = sum(1 for t in tokens if t.revoked_at is None)
        self.stdout.write(f"{len(tokens)} token(s): {active} active, {len(tokens) - active} revoked." if tokens else "No tokens.")
