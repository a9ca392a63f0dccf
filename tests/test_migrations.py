from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_missing_migrations():
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=StringIO())
    except SystemExit as exc:  # raised by --check when a migration is missing
        pytest.fail(f"Models have changes without migrations:\n{out.getvalue()}")
        raise AssertionError from exc
