"""Invalidation is seen by another process within CONTEXT_L1_TTL.

Process B is a real second Python process with its own L1, sharing Redis and
PostgreSQL with this one; this process changes the data and invalidates.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.support.factories import TicketFactory

ROOT = Path(__file__).resolve().parents[3]

READER = """
import json, sys, django
django.setup()
from enrichment.engine.service import get_context_service
service = get_context_service()
for line in sys.stdin:
    ctx = service.enrich_context(line.strip())
    tiers = sorted({s.tier for s in ctx.sources.values()})
    print(json.dumps({"urgent": ctx.support_history.urgent_open_tickets, "tiers": tiers}), flush=True)
"""


@pytest.fixture
def reader_process(transactional_db):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
    }
    proc = subprocess.Popen([sys.executable, "-c", READER], cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    yield proc
    proc.stdin.close()
    proc.wait(timeout=10)


def ask(proc, customer_id: str) -> dict:
    proc.stdin.write(customer_id + "\n")
    proc.stdin.flush()
    return json.loads(proc.stdout.readline())


def test_invalidation_reaches_another_process_within_the_l1_ttl(acme, reader_process):
    from enrichment.engine.service import get_context_service

    assert ask(reader_process, "customer_123") == {"urgent": 0, "tiers": ["computed"]}
    assert ask(reader_process, "customer_123")["tiers"] == ["l1"]

    TicketFactory(customer=acme, priority="urgent")  # committed: the signal invalidates after commit
    assert get_context_service().enrich_context("customer_123").support_history.urgent_open_tickets == 1

    bound = settings.CONTEXT_L1_TTL
    deadline = time.monotonic() + bound + 0.5
    seen = None
    while time.monotonic() < deadline:
        seen = ask(reader_process, "customer_123")
        if seen["urgent"] == 1:
            break
        time.sleep(0.05)
    assert seen is not None and seen["urgent"] == 1, f"process B still served the old context after {bound}s"


def test_enrich_command_exits_1_for_an_unknown_customer(transactional_db):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "enrich", "no_such_customer"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "Unknown customer" in result.stderr
