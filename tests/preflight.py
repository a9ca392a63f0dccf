"""Stop the test run at once when PostgreSQL or Redis is not reachable."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def check_services() -> None:
    problems = []
    db = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/enrichment"))
    if db.scheme.startswith("postgres") and not _reachable(db.hostname or "127.0.0.1", db.port or 5432):
        problems.append(
            f"PostgreSQL is not reachable at {db.hostname}:{db.port or 5432} (DATABASE_URL). Start it with:\n"
            "    pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
        )
    redis = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/9"))
    if not _reachable(redis.hostname or "127.0.0.1", redis.port or 6379):
        problems.append(
            f"Redis is not reachable at {redis.hostname}:{redis.port or 6379} (REDIS_URL). Start it with:\n"
            '    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no'
        )
    if problems:
        pytest.exit("The test suite needs real services:\n\n" + "\n\n".join(problems), returncode=3)
